-- Idempotency keys remember the request they were first used with (a 409 on a different body).
ALTER TABLE events ADD COLUMN IF NOT EXISTS body_hash text;

-- Strategy ids belong to their tenant: another tenant may use the same id (config's shared ones stay public).
ALTER TABLE strategies DROP CONSTRAINT IF EXISTS strategies_pkey;
ALTER TABLE strategies ADD PRIMARY KEY (owner, id, version);
