// The statement runs end with: their last audit rows, their runs-index rows and their events out,
// written together (data-modifying CTEs), each part idempotent so a retried write adds nothing twice.
// Several runs' writes go as one statement when they meet (store/group-commit.ts).
import { sql, type SQL } from 'drizzle-orm';
import { toStorable } from '../dsl/text.js';
import type { AuditRow, RunIndexRow } from './types.js';
import type { OutEvent } from './events-out.js';

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(toStorable(v)));

/**
 * Rows back: `audit` with each audit row written now (`key`: its execution id, `seq`), `out` with
 * each event out written now (id, key, created_at). Without runs, audit rows and events out only.
 */
export function recordRunStatement(rows: AuditRow[], runs: RunIndexRow[], outs: OutEvent[]): SQL {
  const audit = rows.map((r) => ({ execution_id: r.execution_id, tenant: r.tenant, seq: r.seq, kind: r.kind, task: r.task, detail: r.detail, at: r.at }));
  const events = outs.map((e) => ({ key: e.key, tenant: e.tenant, type: e.type, payload: e.payload }));
  return sql`WITH a AS (
  INSERT INTO audit_log (execution_id, tenant, seq, kind, task, detail, at)
  SELECT r.execution_id, r.tenant, r.seq, r.kind, r.task, r.detail, r.at
  FROM jsonb_to_recordset(${json(audit)}::jsonb) AS r(execution_id text, tenant text, seq integer, kind text, task text, detail jsonb, at timestamptz)
  ON CONFLICT DO NOTHING RETURNING execution_id, seq
), ${runs.length ? indexPart(runs) : sql`i AS (SELECT 1)`}, o AS (
  INSERT INTO events_out (key, tenant, type, payload)
  SELECT e.key, e.tenant, e.type, e.payload FROM jsonb_to_recordset(${json(events)}::jsonb) AS e(key text, tenant text, type text, payload jsonb)
  ON CONFLICT DO NOTHING RETURNING id, key, created_at
)
SELECT 'audit' AS what, seq, NULL::bigint AS id, execution_id AS key, NULL::text AS created_at FROM a
UNION ALL SELECT 'out', NULL, id, key, created_at::text FROM o`;
}

/** One row per run (the last write of a run wins: an upsert cannot touch a row twice in one statement); `json`, so summaries keep their key order. */
function indexPart(all: RunIndexRow[]) {
  const runs = [...new Map(all.map((r) => [r.execution_id, r])).values()].map((r) => ({ ...r, context: r.context ?? null }));
  return sql`i AS (
  INSERT INTO runs (execution_id, tenant, workflow_ref, workflow_version, status, started_at, ended_at, summary, context)
  SELECT r.execution_id, r.tenant, r.workflow_ref, r.workflow_version, r.status, r.started_at, r.ended_at, r.summary, r.context
  FROM json_to_recordset(${json(runs)}::json) AS r(execution_id text, tenant text, workflow_ref text, workflow_version text, status text,
    started_at timestamptz, ended_at timestamptz, summary json, context json)
  ON CONFLICT (execution_id) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at, summary = excluded.summary,
    context = excluded.context, updated_at = now()
)`;
}
