-- Closeloop schema v1: workflow definitions, runs index, audit log.
CREATE TABLE IF NOT EXISTS workflow_definitions (
  tenant      text        NOT NULL,
  ref         text        NOT NULL,
  version     text        NOT NULL,
  yaml        text        NOT NULL,
  compiled    json        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text,
  deleted_at  timestamptz,
  PRIMARY KEY (tenant, ref, version)
);

CREATE TABLE IF NOT EXISTS runs (
  execution_id     text        PRIMARY KEY,
  tenant           text        NOT NULL,
  workflow_ref     text        NOT NULL,
  workflow_version text        NOT NULL,
  status           text        NOT NULL,
  started_at       timestamptz NOT NULL,
  ended_at         timestamptz,
  summary          json,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS runs_tenant_status ON runs (tenant, status, started_at DESC);

CREATE TABLE IF NOT EXISTS audit_log (
  id           bigserial   PRIMARY KEY,
  execution_id text        NOT NULL,
  tenant       text        NOT NULL,
  seq          integer     NOT NULL,
  kind         text        NOT NULL,
  task         text,
  detail       jsonb       NOT NULL,
  at           timestamptz NOT NULL,
  written_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (execution_id, seq)
);
