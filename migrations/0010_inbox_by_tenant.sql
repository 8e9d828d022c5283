-- The inbox read by tenant: the dispatcher leases and counts only the events of the tenants its
-- process serves, so its queries walk those tenants' waiting events, not every tenant's.
CREATE INDEX IF NOT EXISTS events_inbox_tenant ON events (tenant, received_at) WHERE status = 'accepted';
-- Every event row is updated once it starts (accepted -> started), which leaves a dead entry in both
-- partial indexes until a vacuum: vacuum the table after 2% of it changed, not the default 20%, so the
-- inbox queries do not walk thousands of dead entries under a steady load.
ALTER TABLE events SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
