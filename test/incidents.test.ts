import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it, beforeAll, afterAll } from 'vitest';
import { eq } from 'drizzle-orm';
import { createActivities } from '../activities/index.js';
import { singleTenant, startApi } from './api-helpers.js';
import { EMPTY_ESCALATION, parseEscalation, type EscalationConfig } from '../dsl/escalation.js';
import { nextStatus } from '../dsl/incident-machine.js';
import { closures, eventsOut, feedback, incidents } from '../store/schema.js';
import { ALERTS, ALERTS_SCHEDULE_ID } from '../workflows/alerts.js';
import { ensureAlertSchedule } from '../workers/schedules.js';
import { incidentStateQuery } from '../contracts/incident.js';
import type { OpenIncidentInput } from '../activities/types.js';
import { findTemporalCli } from '../workers/temporal-cli.js';
import { createHarness, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';

const KEY = 'incident-operator-key';
const tenants = singleTenant('acme', KEY, 'oncall-1', ['operator']);
let h: Harness;
let api: Awaited<ReturnType<typeof startApi>>;
let worker: { stop(): Promise<void> } | undefined;
let escalation: EscalationConfig = EMPTY_ESCALATION;
let acts: ReturnType<typeof createActivities>;
const pager = startHttpTarget();

beforeAll(async () => {
  h = await createHarness();
  api = await startApi(h, tenants);
  const hook = `${(await pager).url}/hooks`;
  const parsed = parseEscalation(`policies:
  - id: default
    ack_sla: { critical: 0, high: 2, warning: 3600 }
    resolve_sla: { critical: 3600, high: 14400, warning: 86400 }
    steps:
      - after: 0
        notify: [{ role: runtime.operator, channel: im }]
      - after: 3
        notify: [{ role: ops.lead, channel: webhook }]
    repeat: 0
routing:
  runtime.operator: { im: "${hook}/operator" }
  ops.lead: { webhook: "${hook}/lead" }
`);
  expect(parsed.diagnostics).toEqual([]);
  escalation = parsed.config!;
  acts = createActivities({ store: h.store, escalation: () => escalation, client: h.client, taskQueue: h.taskQueue });
  worker = await h.startWorker(acts);
});
afterAll(async () => {
  await worker?.stop();
  api?.close();
  await (await pager).close();
  await h?.close();
});

const open = (over: Partial<OpenIncidentInput> = {}) =>
  acts.openIncident({
    tenant: 'acme',
    source: 'alert',
    source_id: randomUUID(),
    severity: 'warning',
    title: 'Closure failures on billing',
    attribution: { workflow_ref: 'billing.close_invoice', workflow_version: '1.2.0', trace_id: 'abc' },
    ...over,
  });
const post = (id: string, action: string, body: unknown = {}) =>
  fetch(`${api.base}/v1/incidents/${encodeURIComponent(id)}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const state = (id: string) => h.client.workflow.getHandle(id).query(incidentStateQuery);
async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('incident state machine', () => {
  it('allows only the documented transitions', () => {
    expect(nextStatus('open', 'acknowledge')).toEqual({ ok: true, to: 'acknowledged' });
    expect(nextStatus('open', 'mitigate').ok).toBe(false);
    expect(nextStatus('investigating', 'resolve', {})).toMatchObject({ ok: false, reason: expect.stringContaining('root cause') });
    expect(nextStatus('resolved', 'note' as never).ok).toBe(false);
  });
});

describe('incidents', () => {
  it('full lifecycle through the API: invalid transitions refused, resolve needs a root cause, then one feedback item; resolved is immutable except notes', async () => {
    const { incident_id: id } = await open();
    await until(
      () => h.store.db.select().from(incidents).where(eq(incidents.id, id)),
      (r) => r.length > 0,
    );
    expect((await post(id, 'mitigate')).status).toBe(409);
    expect((await post(id, 'acknowledge')).status).toBe(200);
    expect((await post(id, 'acknowledge')).status).toBe(409);
    expect((await post(id, 'investigate')).status).toBe(200);
    expect((await post(id, 'note', { note: 'looking at the billing plugin' })).status).toBe(200);
    expect((await post(id, 'mitigate')).status).toBe(200);
    const noCause = await post(id, 'resolve', {});
    expect(noCause.status).toBe(422);
    expect(((await noCause.json()) as { error: { message: string } }).error.message).toContain('root cause');
    const resolved = await post(id, 'resolve', { root_cause: 'expired plugin token' });
    expect(resolved.status).toBe(200);
    const rows = await until(
      () => h.store.db.select().from(feedback).where(eq(feedback.tenant, 'acme')),
      (r) => r.some((f) => (f.attribution as { incident_id?: string }).incident_id === id),
    );
    const fb = rows.filter((f) => (f.attribution as { incident_id?: string }).incident_id === id);
    expect(fb).toHaveLength(1);
    expect(fb[0]).toMatchObject({ category: 'reliability', sentiment: 'negative' });
    expect(fb[0]!.attribution).toMatchObject({ workflow_ref: 'billing.close_invoice', trace_id: 'abc' });
    // resolved: immutable except appended notes
    expect((await post(id, 'investigate')).status).toBe(409);
    expect((await post(id, 'note', { note: 'post-mortem: rotate tokens monthly' })).status).toBe(200);
    const detail = (await (await fetch(`${api.base}/v1/incidents/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
      status: string;
      root_cause: string;
      opened_at: string;
      ack_due_at: string;
      resolve_due_at: string;
      events: { kind: string; to: string | null }[];
    };
    expect(detail.status).toBe('resolved');
    expect(detail.root_cause).toBe('expired plugin token');
    // the SLA due times come from the policy snapshot (warning: ack 3600 s, resolve 86400 s)
    const opened = new Date(detail.opened_at).getTime();
    expect(new Date(detail.ack_due_at).getTime() - opened).toBe(3600_000);
    expect(new Date(detail.resolve_due_at).getTime() - opened).toBe(86_400_000);
    expect(detail.events.map((e) => e.kind)).toEqual(['opened', 'acknowledge', 'investigate', 'note', 'mitigate', 'resolve', 'note']);
    const out = await h.store.db.select().from(eventsOut).where(eq(eventsOut.tenant, 'acme'));
    const mine = out.filter(
      (e) =>
        (e.payload as { incident_id?: string }).incident_id === id || (e.payload as { attribution?: { incident_id?: string } }).attribution?.incident_id === id,
    );
    expect(mine.map((e) => e.type).sort()).toEqual(['feedback.created', 'incident.opened', 'incident.resolved']);
  });

  it('the same actions work as signals from the temporal CLI; an invalid one is recorded as refused', async () => {
    const { incident_id: id } = await open();
    const cli = findTemporalCli(process.env.TEMPORAL_CLI_PATH);
    const signal = (name: string, input: unknown) =>
      promisify(execFile)(cli, [
        'workflow',
        'signal',
        '--address',
        inject('temporalAddress'),
        '--workflow-id',
        id,
        '--name',
        name,
        '--input',
        JSON.stringify(input),
      ]);
    await signal('acknowledge', { by: 'cli-user' });
    await signal('resolve', { by: 'cli-user' }); // no root cause: refused
    await signal('investigate', { by: 'cli-user' });
    await signal('resolve', { by: 'cli-user', root_cause: 'disk full' });
    const s = await until(
      () => h.store.db.select().from(incidents).where(eq(incidents.id, id)),
      (r) => r[0]?.status === 'resolved',
    );
    expect(s[0]).toMatchObject({ status: 'resolved', rootCause: 'disk full' });
    const detail = (await (await fetch(`${api.base}/v1/incidents/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
      events: { kind: string; by: string | null }[];
    };
    expect(detail.events.map((e) => e.kind)).toEqual(['opened', 'acknowledge', 'refused', 'investigate', 'resolve']);
    expect(detail.events[1]!.by).toBe('cli-user');
  });

  it('repeat alerts for the same source append to the open incident instead of opening another', async () => {
    const sourceId = randomUUID();
    const a = await open({ source_id: sourceId });
    const b = await open({ source_id: sourceId, detail: { value: 4 } });
    expect(b.incident_id).toBe(a.incident_id);
    const s = await until(
      () => state(a.incident_id),
      (v) => v.alert_count === 2,
    );
    expect(s.alert_count).toBe(2);
    expect(s.events.filter((e) => e.kind === 'alert')).toHaveLength(1);
    const rows = await until(
      () => h.store.db.select().from(incidents).where(eq(incidents.id, a.incident_id)),
      (r) => r[0]?.alertCount === 2,
    );
    expect(rows).toHaveLength(1);
  });

  it('a long-lived incident with many repeats continues as new and stays one incident (row, numbering, SLA clock, actions)', async () => {
    const sourceId = randomUUID();
    const first = await open({ source_id: sourceId });
    const firstRun = (await h.client.workflow.getHandle(first.incident_id).describe()).runId;
    for (let i = 0; i < 80; i++) await open({ source_id: sourceId, detail: { i } });
    const s = await until(
      () => state(first.incident_id),
      (v) => v.alert_count === 81,
      30_000,
    );
    expect(s.alert_count).toBe(81);
    expect(s.run_id).toBe(firstRun);
    const d = await until(
      () => h.client.workflow.getHandle(first.incident_id).describe(),
      (x) => x.runId !== firstRun,
    );
    expect(d.runId, `history ${d.historyLength} events`).not.toBe(firstRun); // it continued as new (the test server suggests it at 200 events)
    expect((await post(first.incident_id, 'acknowledge')).status).toBe(200);
    const rows = await until(
      () => h.store.db.select().from(incidents).where(eq(incidents.id, first.incident_id)),
      (r) => r[0]?.status === 'acknowledged',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ runId: firstRun, alertCount: 81, status: 'acknowledged' });
    const detail = (await (
      await fetch(`${api.base}/v1/incidents/${encodeURIComponent(first.incident_id)}`, { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as { events: { seq: number; kind: string }[] };
    expect(detail.events.map((e) => e.seq)).toEqual(Array.from({ length: detail.events.length }, (_, i) => i + 1));
    expect(detail.events.filter((e) => e.kind === 'alert')).toHaveLength(80);
    expect(detail.events.at(-1)?.kind).toBe('acknowledge');
  }, 60_000);

  it('a critical incident escalates at once and pages the first step', async () => {
    const { incident_id: id } = await open({ severity: 'critical', title: 'Payments down' });
    const s = await until(
      () => state(id),
      (v) => v.events.some((e) => e.kind === 'paged'),
    );
    expect(s.status).toBe('escalated');
    expect(s.events.map((e) => e.kind).slice(0, 3)).toEqual(['opened', 'escalate', 'paged']);
    expect((await pager).received.some((r) => r.path === '/hooks/operator' && r.body.includes('Payments down'))).toBe(true);
  });

  it('an unacknowledged incident escalates when its ack SLA runs out; acknowledging cancels the pending steps', async () => {
    const { incident_id: id } = await open({ severity: 'high', title: 'Slow remediation' });
    const s = await until(
      () => state(id),
      (v) => v.events.some((e) => e.kind === 'paged'),
    );
    expect(s.status).toBe('escalated');
    const esc = s.events.find((e) => e.kind === 'escalate')!;
    expect(Date.parse(esc.at) - Date.parse(s.opened_at)).toBeGreaterThanOrEqual(1900);
    expect((await post(id, 'acknowledge')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 4000)); // past the second step (after: 3)
    const after = await state(id);
    expect(after.events.filter((e) => e.kind === 'paged')).toHaveLength(1);
    expect((await pager).received.filter((r) => r.path === '/hooks/lead' && r.body.includes('Slow remediation'))).toHaveLength(0);
  });

  it('the alert schedule opens an incident for 3 closure failures in a row, and a later evaluation appends to it', async () => {
    const tenant = `alerting-${randomUUID().slice(0, 8)}`;
    const at = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    const row = (n: number, verdict: string, ago: number) => ({
      executionId: `run:${tenant}:${n}`,
      tenant,
      rule: 'r',
      verdict,
      checks: [],
      remediations: [],
      graphEndedAt: at(ago),
      verdictAt: at(ago),
    });
    // an older verified closure, then three failures in a row
    await h.store.db.insert(closures).values([row(0, 'closed', 50), row(1, 'failed', 40), row(2, 'failed', 30), row(3, 'failed', 20)]);
    const saved = escalation;
    escalation = { ...escalation, alerts: [{ id: 'closure_failures', expr: 'consecutive_closure_failures >= 3', severity: 'high' }] };
    try {
      const first = (await h.client.workflow.execute(ALERTS, { taskQueue: h.taskQueue, workflowId: `alerts:${randomUUID()}`, args: [] })) as {
        firing: { tenant: string; alert: string; value: number }[];
      };
      expect(first.firing).toContainEqual(expect.objectContaining({ tenant, alert: 'closure_failures', value: 3 }));
      const id = `incident:${tenant}:alert:closure_failures`;
      const opened = await until(
        () => state(id),
        (v) => v.status === 'open',
      );
      expect(opened).toMatchObject({ severity: 'high', source: 'alert', source_id: 'closure_failures' });
      await h.client.workflow.execute(ALERTS, { taskQueue: h.taskQueue, workflowId: `alerts:${randomUUID()}`, args: [] });
      expect(
        (
          await until(
            () => state(id),
            (v) => v.alert_count === 2,
          )
        ).alert_count,
      ).toBe(2);
      // a verified closure ends the streak: nothing fires for this tenant any more
      await h.store.db.insert(closures).values(row(4, 'remediated', 1));
      const later = (await h.client.workflow.execute(ALERTS, { taskQueue: h.taskQueue, workflowId: `alerts:${randomUUID()}`, args: [] })) as {
        firing: { tenant: string }[];
      };
      expect(later.firing.filter((f) => f.tenant === tenant)).toEqual([]);
    } finally {
      escalation = saved;
    }
  });

  it('the alert Schedule is created once, every minute', async () => {
    expect(await ensureAlertSchedule(h.client, h.taskQueue)).toMatch(/created|exists/);
    expect(await ensureAlertSchedule(h.client, h.taskQueue)).toBe('exists');
    const handle = h.client.schedule.getHandle(ALERTS_SCHEDULE_ID);
    const d = await handle.describe();
    expect(d.spec.intervals?.[0]?.every).toBe(60_000);
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: ALERTS });
    await handle.delete();
  });
});
