-- Events out (interfaces.md "Events out"): always recorded here; published to the bus when one is configured.
CREATE TABLE IF NOT EXISTS events_out (
  id            bigserial   PRIMARY KEY,
  key           text        NOT NULL UNIQUE,
  tenant        text        NOT NULL,
  type          text        NOT NULL,
  payload       jsonb       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
CREATE INDEX IF NOT EXISTS events_out_unpublished ON events_out (created_at) WHERE published_at IS NULL;
