-- Written by hand. 0013's triggers locked a user's enrolled_users row before the user's own row, which the app
-- already locks around factor changes: a key's registration takes the user, then (inserting the key) that
-- enrolled_users row; an admin's Remove all took the key, that row, then the user — the two deadlocked
-- (tests/integration/passkey-keyonly-attacks.security.test.ts, "the admin removes all keys while the key-only
-- user adds another"). Now every counting trigger locks the owners' users rows first (FOR NO KEY UPDATE:
-- foreign-key checks, which take KEY SHARE, do not wait for it; in id order, so two bulk statements lock their
-- common users in the same order), then writes enrolled_users. Anyone writing an enrolled_users row holds its
-- user's row already, so that row is never part of a cycle. The counts do not depend on this lock: each write
-- still adds its delta to the committed value. Only the two functions change; the triggers call them by name.
CREATE FUNCTION "enrolled_users_lock_owners"(owners uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM "users" WHERE "id" = ANY(owners) ORDER BY "id" FOR NO KEY UPDATE;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "enrolled_users_add"(owners uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(owners) = 0 THEN RETURN; END IF;
  PERFORM "enrolled_users_lock_owners"(owners);
  INSERT INTO "enrolled_users" ("user_id", "factors")
  SELECT owner, count(*) FROM unnest(owners) AS owner GROUP BY owner
  ON CONFLICT ("user_id") DO UPDATE SET "factors" = "enrolled_users"."factors" + excluded."factors";
END $$;--> statement-breakpoint
-- A deleted user (this transaction's DELETE of users) has neither a users row to lock nor, after its cascade, an
-- enrolled_users row: nothing matches.
CREATE OR REPLACE FUNCTION "enrolled_users_remove"(owners uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(owners) = 0 THEN RETURN; END IF;
  PERFORM "enrolled_users_lock_owners"(owners);
  UPDATE "enrolled_users" e SET "factors" = e."factors" - d.n
  FROM (SELECT owner, count(*) AS n FROM unnest(owners) AS owner GROUP BY owner) d
  WHERE e."user_id" = d.owner;
  -- Still locked (the users rows, and these by the UPDATE): no factor can be added in between.
  DELETE FROM "enrolled_users" WHERE "user_id" = ANY(owners) AND "factors" <= 0;
END $$;
