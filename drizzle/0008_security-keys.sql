CREATE TABLE "security_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"credential_id" text NOT NULL,
	"public_key" text NOT NULL,
	"counter" bigint DEFAULT 0 NOT NULL,
	"transports" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"device_type" text NOT NULL,
	"backed_up" boolean NOT NULL,
	"user_verified" boolean NOT NULL,
	"discoverable" boolean,
	"aaguid" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webauthn_challenges" (
	"challenge" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"purpose" text NOT NULL,
	"session_id" text,
	"sign_in_challenge_hash" text,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webauthn_challenges_bound" CHECK (("webauthn_challenges"."purpose" = 'register' and "webauthn_challenges"."session_id" is not null) or ("webauthn_challenges"."purpose" = 'sign_in' and "webauthn_challenges"."sign_in_challenge_hash" is not null))
);
--> statement-breakpoint
ALTER TABLE "security_keys" ADD CONSTRAINT "security_keys_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webauthn_challenges" ADD CONSTRAINT "webauthn_challenges_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webauthn_challenges" ADD CONSTRAINT "webauthn_challenges_session_id_sessions_sid_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("sid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webauthn_challenges" ADD CONSTRAINT "webauthn_challenges_sign_in_challenge_hash_sign_in_challenges_token_hash_fk" FOREIGN KEY ("sign_in_challenge_hash") REFERENCES "public"."sign_in_challenges"("token_hash") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "security_keys_credential_idx" ON "security_keys" USING btree ("credential_id");--> statement-breakpoint
CREATE INDEX "security_keys_user_idx" ON "security_keys" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "webauthn_challenges_expires_idx" ON "webauthn_challenges" USING btree ("expires_at");--> statement-breakpoint
-- Hand-written: a security key added or removed changes the user's factors, so every pending sign-in of that
-- user ends (as for TOTP and recovery codes, migration 0007). A use (counter, last_used_at, a rename) does not.
CREATE FUNCTION "security_keys_end_pending_sign_ins"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "sign_in_challenges" WHERE "user_id" IN (SELECT DISTINCT "user_id" FROM changed_rows);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "security_keys_added_end_pending_sign_ins" AFTER INSERT ON "security_keys"
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION "security_keys_end_pending_sign_ins"();--> statement-breakpoint
CREATE TRIGGER "security_keys_removed_end_pending_sign_ins" AFTER DELETE ON "security_keys"
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION "security_keys_end_pending_sign_ins"();
