-- The inbox read by tenant: the dispatcher leases and counts only the events of the tenants its
-- process serves, so its queries walk those tenants' waiting events, not every tenant's.
CREATE INDEX IF NOT EXISTS events_inbox_tenant ON events (tenant, received_at) WHERE status = 'accepted';
