-- Key-value store for templates (kv.get) and secrets (kv.get_secret, secret parameters).
CREATE TABLE IF NOT EXISTS kv (
  tenant      text        NOT NULL,
  key         text        NOT NULL,
  value       json        NOT NULL,
  secret      boolean     NOT NULL DEFAULT false,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, key)
);
