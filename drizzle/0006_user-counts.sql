CREATE TABLE "user_counts" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"users" bigint NOT NULL,
	"enrolled" bigint NOT NULL,
	CONSTRAINT "user_counts_single_row" CHECK ("user_counts"."id" = 1)
);
--> statement-breakpoint
-- drizzle-kit writes this change as DROP + CREATE INDEX (a rebuild); ALTER INDEX does the same in place.
-- The setting applies to later inserts only: gin_clean_pending_list moves what already waits into the index.
ALTER INDEX "users_name_trgm_idx" SET (fastupdate = false);--> statement-breakpoint
ALTER INDEX "users_email_trgm_idx" SET (fastupdate = false);--> statement-breakpoint
SELECT gin_clean_pending_list('users_name_trgm_idx'), gin_clean_pending_list('users_email_trgm_idx');--> statement-breakpoint
-- The counters below, written by hand (drizzle-kit has no triggers). Each trigger adds its delta with
-- UPDATE … SET n = n + delta: a concurrent writer waits for the row and then adds to the committed
-- value (READ COMMITTED re-reads it), so no increment is lost. A delta of 0 (a seed batch of existing
-- emails, an enrollment started but not confirmed) updates nothing, so takes no lock.
-- Inserts and deletes are counted per statement from their transition tables: a seed batch of 1 000
-- users is one UPDATE, not 1 000. Enabling and disabling is counted per row, and only when
-- enabled_at changes: the UPDATE of last_used_step at every sign-in runs no trigger at all.
CREATE FUNCTION "user_counts_add"(users_delta bigint, enrolled_delta bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF users_delta <> 0 OR enrolled_delta <> 0 THEN
    UPDATE "user_counts" SET "users" = "users" + users_delta, "enrolled" = "enrolled" + enrolled_delta WHERE "id" = 1;
  END IF;
END $$;--> statement-breakpoint
CREATE FUNCTION "user_counts_users_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "user_counts_add"((SELECT count(*) FROM new_rows), 0);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "user_counts_users_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "user_counts_add"(-(SELECT count(*) FROM old_rows), 0);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "user_counts_credentials_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "user_counts_add"(0, (SELECT count(*) FROM new_rows WHERE "enabled_at" IS NOT NULL));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "user_counts_credentials_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "user_counts_add"(0, -(SELECT count(*) FROM old_rows WHERE "enabled_at" IS NOT NULL));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "user_counts_credential_toggled"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "user_counts_add"(0, CASE WHEN NEW."enabled_at" IS NULL THEN -1 ELSE 1 END);
  RETURN NULL;
END $$;--> statement-breakpoint
-- TRUNCATE removes rows without a DELETE (TRUNCATE users CASCADE truncates totp_credentials too).
CREATE FUNCTION "user_counts_truncated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'users' THEN
    UPDATE "user_counts" SET "users" = 0, "enrolled" = 0 WHERE "id" = 1;
  ELSE
    UPDATE "user_counts" SET "enrolled" = 0 WHERE "id" = 1;
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
-- No write may slip between the triggers' creation and the initial count: this lock (taken by
-- CREATE TRIGGER anyway, held to the end of the migration's transaction) blocks writes, not reads.
LOCK TABLE "users", "totp_credentials" IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
CREATE TRIGGER "users_counted_insert" AFTER INSERT ON "users" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_users_inserted"();--> statement-breakpoint
CREATE TRIGGER "users_counted_delete" AFTER DELETE ON "users" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_users_deleted"();--> statement-breakpoint
CREATE TRIGGER "users_counted_truncate" AFTER TRUNCATE ON "users"
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_truncated"();--> statement-breakpoint
CREATE TRIGGER "totp_credentials_counted_insert" AFTER INSERT ON "totp_credentials" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_credentials_inserted"();--> statement-breakpoint
CREATE TRIGGER "totp_credentials_counted_delete" AFTER DELETE ON "totp_credentials" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_credentials_deleted"();--> statement-breakpoint
CREATE TRIGGER "totp_credentials_counted_toggle" AFTER UPDATE OF "enabled_at" ON "totp_credentials"
  FOR EACH ROW WHEN ((OLD."enabled_at" IS NULL) <> (NEW."enabled_at" IS NULL))
  EXECUTE FUNCTION "user_counts_credential_toggled"();--> statement-breakpoint
CREATE TRIGGER "totp_credentials_counted_truncate" AFTER TRUNCATE ON "totp_credentials"
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_truncated"();--> statement-breakpoint
INSERT INTO "user_counts" ("id", "users", "enrolled") VALUES (
  1,
  (SELECT count(*) FROM "users"),
  (SELECT count(*) FROM "totp_credentials" WHERE "enabled_at" IS NOT NULL)
);
