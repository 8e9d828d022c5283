-- The durable inbox: an event is acknowledged once stored and matched ('accepted'); a dispatcher
-- starts its run from the stored launch request, leasing the row while it tries.
ALTER TABLE events ADD COLUMN IF NOT EXISTS launch jsonb;
ALTER TABLE events ADD COLUMN IF NOT EXISTS lease_until timestamptz;
ALTER TABLE events ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS events_inbox ON events (received_at) WHERE status = 'accepted';
