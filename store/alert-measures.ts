// The measures the in-engine alert rules (config/agent/escalation.yaml) read, per tenant, from the
// database: evaluated by the alerts workflow and exported as `closeloop_alert_measure` for Prometheus.
import { sql } from 'drizzle-orm';
import type { AlertMeasure } from '../dsl/escalation.js';
import { rowsOf, type Store } from './db.js';

const WINDOW = sql`now() - interval '15 minutes'`;

/** Every alert measure, per tenant, from the database (the last 15 minutes where the name says so). */
export async function alertMeasures(store: Store): Promise<Map<string, Partial<Record<AlertMeasure, number>>>> {
  const out = new Map<string, Partial<Record<AlertMeasure, number>>>();
  const put = (tenant: string, k: AlertMeasure, v: number | string | null) => {
    if (v === null || v === undefined) return;
    const m = out.get(tenant) ?? {};
    m[k] = Number(v);
    out.set(tenant, m);
  };
  // closures in a row, newest first, that failed (a verified closure ends the streak)
  for (const r of await rowsOf<{ tenant: string; n: string }>(
    store,
    sql`
    SELECT tenant, count(*) AS n FROM (
      SELECT tenant, verdict, row_number() OVER (PARTITION BY tenant ORDER BY verdict_at DESC) AS pos,
             min(CASE WHEN verdict IN ('closed', 'remediated') THEN 1 END) OVER (PARTITION BY tenant ORDER BY verdict_at DESC ROWS UNBOUNDED PRECEDING) AS ok_seen
      FROM closures WHERE verdict <> 'pending_supplement') c
    WHERE verdict = 'failed' AND ok_seen IS NULL GROUP BY tenant`,
  ))
    put(r.tenant, 'consecutive_closure_failures', r.n);
  for (const r of await rowsOf<{ tenant: string; v: number | null }>(
    store,
    sql`SELECT tenant, max(remediation_seconds) AS v FROM closures WHERE verdict_at > ${WINDOW} GROUP BY tenant`,
  ))
    put(r.tenant, 'remediation_seconds_max', r.v);
  // reports that could not be written or sent (the verdict stays pending_supplement until they are)
  for (const r of await rowsOf<{ tenant: string; n: string }>(
    store,
    sql`SELECT tenant, count(*) AS n FROM closures WHERE verdict = 'pending_supplement' GROUP BY tenant`,
  ))
    put(r.tenant, 'audit_write_failures', r.n);
  for (const r of await rowsOf<{ tenant: string; v: number }>(
    store,
    sql`SELECT tenant, avg(CASE WHEN status = 'unmatched' THEN 1.0 ELSE 0.0 END) AS v FROM events WHERE received_at > ${WINDOW} GROUP BY tenant`,
  ))
    put(r.tenant, 'strategy_miss_rate_15m', r.v);
  for (const r of await rowsOf<{ tenant: string; v: number }>(
    store,
    sql`SELECT tenant, avg(CASE WHEN status IN ('failed', 'timed_out') THEN 1.0 ELSE 0.0 END) AS v FROM runs WHERE ended_at > ${WINDOW} GROUP BY tenant`,
  ))
    put(r.tenant, 'run_failure_rate_15m', r.v);
  for (const r of await rowsOf<{ tenant: string; n: string }>(
    store,
    sql`SELECT tenant, count(*) AS n FROM manual_reviews WHERE status = 'open' GROUP BY tenant`,
  ))
    put(r.tenant, 'manual_review_open', r.n);
  // counts are 0, not absent, for a tenant with any measure: a dashboard shows 0 rather than nothing
  for (const m of out.values()) for (const k of ['consecutive_closure_failures', 'audit_write_failures', 'manual_review_open'] as const) m[k] ??= 0;
  return out;
}
