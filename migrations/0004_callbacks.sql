-- Callback tokens handed to asynchronous plugin calls (POST /v1/callbacks/{token}).
CREATE TABLE IF NOT EXISTS callbacks (
  token         text        PRIMARY KEY,
  tenant        text        NOT NULL,
  execution_id  text        NOT NULL,
  task          text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  received_at   timestamptz
);
