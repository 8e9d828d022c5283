-- A tenant's events by time (GET /v1/events newest first, the console's events page, the strategy
-- hits of the last day): without it those queries walked every tenant's events by `received_at` and
-- filtered by tenant, so one tenant's page cost as much as all tenants' events (72 ms for a tenant
-- with none, on a table of 30,000 other events).
CREATE INDEX IF NOT EXISTS events_tenant_received ON events (tenant, received_at);
