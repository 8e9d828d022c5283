-- Event intake (idempotency on (tenant, idempotency_key)), the strategy library with versions,
-- and manual-review items for events no strategy matched.
CREATE TABLE IF NOT EXISTS events (
  tenant            text        NOT NULL,
  idempotency_key   text        NOT NULL,
  id                text        NOT NULL,
  type              text        NOT NULL,
  envelope          jsonb       NOT NULL,
  transport         text        NOT NULL,
  status            text        NOT NULL,
  strategy_id       text,
  strategy_version  integer,
  execution_id      text,
  error             text,
  received_at       timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, idempotency_key)
);
CREATE INDEX IF NOT EXISTS events_tenant_id ON events (tenant, id);
CREATE INDEX IF NOT EXISTS events_received ON events (received_at);

CREATE TABLE IF NOT EXISTS strategies (
  id               text        NOT NULL,
  version          integer     NOT NULL,
  owner            text        NOT NULL,
  status           text        NOT NULL,
  definition       jsonb       NOT NULL,
  origin           text        NOT NULL,
  created_by       text,
  approved_by      text,
  activated_at     timestamptz,
  previous_active  integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, version)
);
CREATE INDEX IF NOT EXISTS strategies_status ON strategies (status);

CREATE TABLE IF NOT EXISTS manual_reviews (
  id            text        PRIMARY KEY,
  tenant        text        NOT NULL,
  reason        text        NOT NULL,
  event_key     text,
  execution_id  text,
  detail        jsonb       NOT NULL,
  status        text        NOT NULL DEFAULT 'open',
  notified_at   timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  resolved_at   timestamptz,
  resolved_by   text
);
CREATE INDEX IF NOT EXISTS manual_reviews_tenant_status ON manual_reviews (tenant, status, created_at);
