-- Written by hand. Every sign-in updates its user's row twice (the second-step attempt reserved, then cleared) and
-- its app's row once (the last used time step); every password step updates its rate-limit row. None of those
-- columns is indexed, so PostgreSQL can update the row in place (a HOT update: no new index entries) — but only when
-- the row's page has room for the new version. Tables filled to 100 % (the default) had none: each such update then
-- put the row on another page and added index entries for it, in users' case its ~35 trigrams to each of the two GIN
-- indexes (docs/PERFORMANCE.md, figure 2b). Leaving a fifth of each page free keeps those updates on the page.
-- This applies to pages written from now on; existing full pages empty out as their rows move.
ALTER TABLE "users" SET (fillfactor = 80);--> statement-breakpoint
ALTER TABLE "totp_credentials" SET (fillfactor = 80);--> statement-breakpoint
ALTER TABLE "rate_limits" SET (fillfactor = 70);
