-- Closing the loop: delivery receipts, closure verdicts, delivery reports, incidents and feedback.
ALTER TABLE callbacks ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'result';
ALTER TABLE callbacks ADD COLUMN IF NOT EXISTS result jsonb;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS closure text;

-- One closure per run: the verdict, its checks and remediations (raw data kept even when the report is pending).
CREATE TABLE IF NOT EXISTS closures (
  execution_id      text        PRIMARY KEY,
  tenant            text        NOT NULL,
  rule              text        NOT NULL,
  verdict           text        NOT NULL,
  checks            jsonb       NOT NULL,
  remediations      jsonb       NOT NULL,
  graph_ended_at    timestamptz NOT NULL,
  verdict_at        timestamptz NOT NULL,
  remediation_seconds double precision,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS closures_tenant_time ON closures (tenant, verdict_at);

CREATE TABLE IF NOT EXISTS reports (
  execution_id  text        PRIMARY KEY,
  tenant        text        NOT NULL,
  report        jsonb       NOT NULL,
  markdown      text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  audit_sent_at timestamptz
);

-- An incident is one run of the `incident` workflow; its public id is the workflow id
-- (incident:<tenant>:<source>:<source id>), which a later incident for the same source reuses.
CREATE TABLE IF NOT EXISTS incidents (
  run_id            text        PRIMARY KEY,
  id                text        NOT NULL,
  tenant            text        NOT NULL,
  source            text        NOT NULL,
  source_id         text        NOT NULL,
  severity          text        NOT NULL,
  status            text        NOT NULL,
  title             text        NOT NULL,
  root_cause        text,
  escalation_level  integer     NOT NULL DEFAULT 0,
  alert_count       integer     NOT NULL DEFAULT 1,
  attribution       jsonb       NOT NULL,
  policy            jsonb       NOT NULL,
  opened_at         timestamptz NOT NULL,
  acknowledged_at   timestamptz,
  resolved_at       timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS incidents_tenant_status ON incidents (tenant, status, opened_at);
CREATE INDEX IF NOT EXISTS incidents_id ON incidents (id, opened_at);

CREATE TABLE IF NOT EXISTS incident_events (
  run_id       text        NOT NULL,
  seq          integer     NOT NULL,
  tenant       text        NOT NULL,
  kind         text        NOT NULL,
  from_status  text,
  to_status    text,
  by           text,
  detail       jsonb       NOT NULL,
  at           timestamptz NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE IF NOT EXISTS feedback (
  id           bigserial   PRIMARY KEY,
  source_id    text        NOT NULL UNIQUE,
  tenant       text        NOT NULL,
  category     text        NOT NULL,
  sentiment    text        NOT NULL,
  summary      text        NOT NULL,
  attribution  jsonb       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
