// The statement a run ends with: its last audit rows, its runs-index row and its events out, written
// together (data-modifying CTEs), each part idempotent so a retried write adds nothing twice.
import { sql, type SQL } from 'drizzle-orm';
import { toStorable } from '../dsl/text.js';
import type { AuditRow, RunIndexRow } from './types.js';
import type { OutEvent } from './events-out.js';

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(toStorable(v)));

/**
 * Rows back: `audit` with each audit seq written now, `out` with each event out written now (id,
 * key, created_at). Without a run, the audit rows and their events out only (a task's activity).
 */
export function recordRunStatement(rows: AuditRow[], run: RunIndexRow | null, outs: OutEvent[]): SQL {
  const audit = rows.map((r) => ({ execution_id: r.execution_id, tenant: r.tenant, seq: r.seq, kind: r.kind, task: r.task, detail: r.detail, at: r.at }));
  const events = outs.map((e) => ({ key: e.key, tenant: e.tenant, type: e.type, payload: e.payload }));
  return sql`WITH a AS (
  INSERT INTO audit_log (execution_id, tenant, seq, kind, task, detail, at)
  SELECT r.execution_id, r.tenant, r.seq, r.kind, r.task, r.detail, r.at
  FROM jsonb_to_recordset(${json(audit)}::jsonb) AS r(execution_id text, tenant text, seq integer, kind text, task text, detail jsonb, at timestamptz)
  ON CONFLICT DO NOTHING RETURNING seq
), ${run ? indexPart(run) : sql`i AS (SELECT 1)`}, o AS (
  INSERT INTO events_out (key, tenant, type, payload)
  SELECT e.key, e.tenant, e.type, e.payload FROM jsonb_to_recordset(${json(events)}::jsonb) AS e(key text, tenant text, type text, payload jsonb)
  ON CONFLICT DO NOTHING RETURNING id, key, created_at
)
SELECT 'audit' AS what, seq, NULL::bigint AS id, NULL::text AS key, NULL::text AS created_at FROM a
UNION ALL SELECT 'out', NULL, id, key, created_at::text FROM o`;
}

const indexPart = (run: RunIndexRow) => sql`i AS (
  INSERT INTO runs (execution_id, tenant, workflow_ref, workflow_version, status, started_at, ended_at, summary, context)
  VALUES (${run.execution_id}, ${run.tenant}, ${run.workflow_ref}, ${run.workflow_version}, ${run.status}, ${run.started_at}::timestamptz,
    ${run.ended_at}::timestamptz, ${json(run.summary)}::json, ${json(run.context ?? null)}::json)
  ON CONFLICT (execution_id) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at, summary = excluded.summary,
    context = excluded.context, updated_at = now()
)`;
