CREATE TABLE "enrolled_users" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"factors" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "enrolled_users" ADD CONSTRAINT "enrolled_users_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Written by hand from here (drizzle-kit has no triggers). user_counts.enrolled counted the enabled apps, and the
-- Users page added the users with a key and no app by reading all of security_keys at every view. Now the
-- counter holds every enrolled user (an enabled app or at least one key, each user once): the rows of
-- enrolled_users, counted per statement as 0006 counts users.
--
-- enrolled_users.factors is kept by adding deltas: INSERT … ON CONFLICT DO UPDATE SET n = n + delta (a user's
-- first factor inserts the row) and UPDATE … SET n = n - delta, then the row deleted at 0. Both wait for a
-- concurrent writer of the same user and then add to the committed value (READ COMMITTED re-reads the row), so
-- two first keys added at once, or a key and the app, make one row with 2. Deciding instead from the user's
-- factor rows would need a lock before the look, and would uncount a deleted user twice: the cascades' statement
-- triggers on both factor tables fire after the whole DELETE, and both see nothing left. Here the user's
-- enrolled_users row goes by its own cascade, and the factor tables' triggers then find no row to change.
-- A separate table rather than a column of users: updating users rows writes the trigram GIN indexes too (full
-- pages, no HOT update), and seeding 25 000 enabled apps took 8 s instead of well under one.
--
-- The enrolled_users row is locked after the factor's row; a transaction that changes both factor tables takes
-- its keys first (lib/two-factor/enrollment.ts), as a key's removal does, so the two wait instead of deadlocking.
-- Per statement, from the transition tables: the bench's 2 000 keys in one INSERT are one INSERT here and one
-- UPDATE of user_counts. Nothing to count (an enrollment only started, an insert that conflicted) writes nothing.
CREATE FUNCTION "enrolled_users_add"(owners uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(owners) = 0 THEN RETURN; END IF;
  -- In user id order, so two bulk statements lock their common rows in the same order.
  INSERT INTO "enrolled_users" ("user_id", "factors")
  SELECT owner, count(*) FROM unnest(owners) AS owner GROUP BY owner ORDER BY owner
  ON CONFLICT ("user_id") DO UPDATE SET "factors" = "enrolled_users"."factors" + excluded."factors";
END $$;--> statement-breakpoint
-- A deleted user's row is gone already (its cascade): nothing matches.
CREATE FUNCTION "enrolled_users_remove"(owners uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(owners) = 0 THEN RETURN; END IF;
  IF cardinality(owners) > 1 THEN -- locked in user id order first: the UPDATE's join has no order
    PERFORM 1 FROM "enrolled_users" WHERE "user_id" = ANY(owners) ORDER BY "user_id" FOR NO KEY UPDATE;
  END IF;
  UPDATE "enrolled_users" e SET "factors" = e."factors" - d.n
  FROM (SELECT owner, count(*) AS n FROM unnest(owners) AS owner GROUP BY owner) d
  WHERE e."user_id" = d.owner;
  -- Locked by the UPDATE above until commit: no concurrent writer can add a factor in between.
  DELETE FROM "enrolled_users" WHERE "user_id" = ANY(owners) AND "factors" <= 0;
END $$;--> statement-breakpoint
CREATE FUNCTION "user_counts_enrolled_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "user_counts_add"(0, (SELECT count(*) FROM new_rows));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "user_counts_enrolled_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "user_counts_add"(0, -(SELECT count(*) FROM old_rows));
  RETURN NULL;
END $$;--> statement-breakpoint
-- No factor may be written between the new functions and the count at the end: this lock, held to the end of
-- the migration's transaction, blocks writes, not reads.
LOCK TABLE "totp_credentials", "security_keys" IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
CREATE TRIGGER "enrolled_users_counted_insert" AFTER INSERT ON "enrolled_users" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_enrolled_inserted"();--> statement-breakpoint
CREATE TRIGGER "enrolled_users_counted_delete" AFTER DELETE ON "enrolled_users" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_enrolled_deleted"();--> statement-breakpoint
-- The authenticator app: 0006's statement triggers for inserts and deletes keep their definitions.
CREATE OR REPLACE FUNCTION "user_counts_credentials_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "enrolled_users_add"(ARRAY(SELECT "user_id" FROM new_rows WHERE "enabled_at" IS NOT NULL));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "user_counts_credentials_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "enrolled_users_remove"(ARRAY(SELECT "user_id" FROM old_rows WHERE "enabled_at" IS NOT NULL));
  RETURN NULL;
END $$;--> statement-breakpoint
-- Per row, only when enabled_at changes or an enabled app changes owner: the UPDATE of last_used_step at every
-- sign-in names neither column and runs no trigger. (A row trigger sees the end of its statement, but each adds
-- its own delta, so several rows in one statement still count right.)
CREATE OR REPLACE FUNCTION "user_counts_credential_toggled"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD."enabled_at" IS NOT NULL THEN PERFORM "enrolled_users_remove"(ARRAY[OLD."user_id"]); END IF;
  IF NEW."enabled_at" IS NOT NULL THEN PERFORM "enrolled_users_add"(ARRAY[NEW."user_id"]); END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
-- Renamed to fire after 0007's totp_enabled_end_pending_sign_ins (triggers on one event fire in name order): the
-- pending sign-ins' rows before the user's enrolled_users row, the order a key's removal takes them in, so an
-- app confirmed while a key is removed waits for it rather than deadlocks. The keys' triggers are named so too.
DROP TRIGGER "totp_credentials_counted_toggle" ON "totp_credentials";--> statement-breakpoint
CREATE TRIGGER "totp_enabled_then_counted" AFTER UPDATE OF "enabled_at", "user_id" ON "totp_credentials"
  FOR EACH ROW WHEN ((OLD."enabled_at" IS NULL) <> (NEW."enabled_at" IS NULL) OR (OLD."enabled_at" IS NOT NULL AND OLD."user_id" <> NEW."user_id"))
  EXECUTE FUNCTION "user_counts_credential_toggled"();--> statement-breakpoint
-- Security keys. A key's use (counter, last_used_at) and a rename name no user_id: no trigger work.
CREATE FUNCTION "user_counts_keys_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "enrolled_users_add"(ARRAY(SELECT "user_id" FROM new_rows));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "user_counts_keys_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "enrolled_users_remove"(ARRAY(SELECT "user_id" FROM old_rows));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "user_counts_key_moved"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "enrolled_users_remove"(ARRAY[OLD."user_id"]);
  PERFORM "enrolled_users_add"(ARRAY[NEW."user_id"]);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "security_keys_added_then_counted" AFTER INSERT ON "security_keys" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_keys_inserted"();--> statement-breakpoint
CREATE TRIGGER "security_keys_removed_then_counted" AFTER DELETE ON "security_keys" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_keys_deleted"();--> statement-breakpoint
CREATE TRIGGER "security_keys_counted_move" AFTER UPDATE OF "user_id" ON "security_keys"
  FOR EACH ROW WHEN (OLD."user_id" <> NEW."user_id") EXECUTE FUNCTION "user_counts_key_moved"();--> statement-breakpoint
-- enrolled_users from the factor rows themselves (its triggers then count user_counts.enrolled): after a TRUNCATE
-- of a factor table, which deletes without a DELETE, and once below for the rows that exist already.
CREATE FUNCTION "enrolled_users_rebuild"() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "enrolled_users";
  INSERT INTO "enrolled_users" ("user_id", "factors")
  SELECT "user_id", count(*)
  FROM (SELECT "user_id" FROM "totp_credentials" WHERE "enabled_at" IS NOT NULL UNION ALL SELECT "user_id" FROM "security_keys") factors
  GROUP BY "user_id";
END $$;--> statement-breakpoint
-- TRUNCATE takes an exclusive lock: no concurrent writer to race with. TRUNCATE users CASCADE empties
-- enrolled_users too (0006's trigger on users sets both totals to 0).
CREATE OR REPLACE FUNCTION "user_counts_truncated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'users' THEN
    UPDATE "user_counts" SET "users" = 0, "enrolled" = 0 WHERE "id" = 1;
  ELSIF TG_TABLE_NAME = 'enrolled_users' THEN
    UPDATE "user_counts" SET "enrolled" = 0 WHERE "id" = 1;
  ELSE
    PERFORM "enrolled_users_rebuild"();
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "security_keys_counted_truncate" AFTER TRUNCATE ON "security_keys"
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_truncated"();--> statement-breakpoint
CREATE TRIGGER "enrolled_users_counted_truncate" AFTER TRUNCATE ON "enrolled_users"
  FOR EACH STATEMENT EXECUTE FUNCTION "user_counts_truncated"();--> statement-breakpoint
-- From 0 (enrolled_users is empty: the apps 0006 counted are in the rebuild), then the rebuild's INSERT counts.
UPDATE "user_counts" SET "enrolled" = 0 WHERE "id" = 1;--> statement-breakpoint
SELECT "enrolled_users_rebuild"();
