-- Human inquiries (core.inquiry) and the run context kept for retries.
CREATE TABLE IF NOT EXISTS inquiries (
  id            text        PRIMARY KEY,
  tenant        text        NOT NULL,
  execution_id  text        NOT NULL,
  task          text        NOT NULL,
  prompt        text        NOT NULL,
  schema        json,
  assigned_to   text,
  status        text        NOT NULL,
  deadline      timestamptz,
  response      json,
  responded_by  text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS inquiries_tenant_status ON inquiries (tenant, status, created_at);

ALTER TABLE runs ADD COLUMN IF NOT EXISTS context json;
