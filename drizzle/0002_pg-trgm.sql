-- Trigram indexes for the admin Users search (next migration). pg_trgm ships with PostgreSQL's contrib
-- and is a trusted extension (13+): a database owner may create it. PGlite loads it in db/index.ts.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
