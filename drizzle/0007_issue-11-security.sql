CREATE TABLE "password_failures" (
	"user_id" uuid NOT NULL,
	"counter" text NOT NULL,
	"failures" integer NOT NULL,
	"lockouts" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	CONSTRAINT "password_failures_user_id_counter_pk" PRIMARY KEY("user_id","counter")
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"sid" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"session_version" integer NOT NULL,
	"signed_in_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_active_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ip" text,
	"user_agent" text
);
--> statement-breakpoint
CREATE TABLE "step_up_confirmations" (
	"session_id" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"confirmed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP TABLE "ended_sessions" CASCADE;--> statement-breakpoint
ALTER TABLE "instance_settings" ADD COLUMN "require_everyone_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "totp_credentials" ADD COLUMN "enrollment_challenge_hash" text;--> statement-breakpoint
ALTER TABLE "password_failures" ADD CONSTRAINT "password_failures_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "step_up_confirmations" ADD CONSTRAINT "step_up_confirmations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "step_up_confirmations_confirmed_idx" ON "step_up_confirmations" USING btree ("confirmed_at");--> statement-breakpoint
ALTER TABLE "users" DROP COLUMN "reauthenticated_at";
--> statement-breakpoint
-- Written by hand (drizzle-kit has no triggers). A sign-in challenge says "this user's password passed
-- under the account as it was then". When the account changes — password, role, email, session version
-- (every "end sessions"), 2FA required, a factor enabled or removed, a new set of recovery codes — every
-- pending challenge of that user dies, whatever code path made the change (the app, the CLI, psql).
-- The only challenge that survives such a change is one created after it in the same transaction: the
-- "enrolled" challenge that confirming a forced enrollment issues.
CREATE FUNCTION "end_pending_sign_ins"(changed_user uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "sign_in_challenges" WHERE "user_id" = changed_user;
END $$;--> statement-breakpoint
CREATE FUNCTION "users_end_pending_sign_ins"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "end_pending_sign_ins"(NEW."id");
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "users_end_pending_sign_ins" AFTER UPDATE OF "password_hash", "role", "email", "session_version", "two_factor_required" ON "users"
  FOR EACH ROW WHEN (
    OLD."password_hash" IS DISTINCT FROM NEW."password_hash" OR OLD."role" IS DISTINCT FROM NEW."role"
    OR OLD."email" IS DISTINCT FROM NEW."email" OR OLD."session_version" IS DISTINCT FROM NEW."session_version"
    OR OLD."two_factor_required" IS DISTINCT FROM NEW."two_factor_required"
  ) EXECUTE FUNCTION "users_end_pending_sign_ins"();--> statement-breakpoint
-- Enabling (enabled_at set) and removing an enabled credential. A pending enrollment being started or
-- replaced is not a factor yet, and re-encrypting a secret under a new key changes no factor: neither ends a sign-in.
CREATE FUNCTION "totp_end_pending_sign_ins"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "end_pending_sign_ins"(OLD."user_id");
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "totp_enabled_end_pending_sign_ins" AFTER UPDATE OF "enabled_at" ON "totp_credentials"
  FOR EACH ROW WHEN (OLD."enabled_at" IS DISTINCT FROM NEW."enabled_at") EXECUTE FUNCTION "totp_end_pending_sign_ins"();--> statement-breakpoint
CREATE TRIGGER "totp_removed_end_pending_sign_ins" AFTER DELETE ON "totp_credentials"
  FOR EACH ROW WHEN (OLD."enabled_at" IS NOT NULL) EXECUTE FUNCTION "totp_end_pending_sign_ins"();--> statement-breakpoint
-- A new set of recovery codes (enrollment, Generate new codes), once per statement.
CREATE FUNCTION "recovery_codes_end_pending_sign_ins"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "sign_in_challenges" WHERE "user_id" IN (SELECT DISTINCT "user_id" FROM new_rows);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "recovery_codes_end_pending_sign_ins" AFTER INSERT ON "recovery_codes"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "recovery_codes_end_pending_sign_ins"();
--> statement-breakpoint
-- Hand-written: an instance already requiring 2FA of everyone keeps its users' grace where it was.
UPDATE "instance_settings" SET "require_everyone_since" = "require_since" WHERE "require_two_factor_for" = 'everyone';
