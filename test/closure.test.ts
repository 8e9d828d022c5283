import { randomUUID } from 'node:crypto';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { eq } from 'drizzle-orm';
import { createActivities } from '../activities/index.js';
import { singleTenant, startApi } from './api-helpers.js';
import { withRuleDefaults, type ClosureRule } from '../dsl/closure-rules.js';
import { EMPTY_ESCALATION, type EscalationConfig } from '../dsl/escalation.js';
import { closures, eventsOut, incidents, reports } from '../store/schema.js';
import { SA, TASKFLOW } from '../contracts/definitions.js';
import type { RunSummary, TaskflowInput } from '../contracts/run.js';
import type { Endpoints } from '../activities/reviews.js';
import { compile, createHarness, resultOf, type Harness } from './helpers.js';
import { startHttpTarget, type Received } from './http-target.js';
import { startSmtp } from './support/smtp.js';
import { writeFile } from 'node:fs/promises';
import { auditLog } from '../store/schema.js';
import { checkAuditCoverage } from '../api/audit-check.js';
import { and } from 'drizzle-orm';

const KEY = 'closure-admin-key';
const tenants = singleTenant('acme', KEY, 'ops-1', ['admin']);
let h: Harness;
let api: Awaited<ReturnType<typeof startApi>>;
let worker: { stop(): Promise<void> } | undefined;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
const endpoints: Endpoints = {};
let escalation: EscalationConfig = EMPTY_ESCALATION;

/** The "customer" side: receipts for IM messages are posted back by this webhook, as a chat provider would. */
let receiptFor: (n: number) => unknown = () => ({ status: 'delivered' });
let imCount = 0;
let imUrl = '';
const im = startHttpTarget((r: Received) => {
  if (r.path.startsWith('/status/')) return { body: { status: 'delivered' } };
  // a receiver that never calls back but answers where its delivery status can be read
  if (r.path === '/hooks/late') return { body: { ok: true, status_url: `${imUrl}/status/${randomUUID()}` } };
  const body = JSON.parse(r.body) as { receipt?: { url?: string } };
  const answer = receiptFor(++imCount);
  if (answer && body.receipt?.url)
    setTimeout(() => void fetch(body.receipt!.url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer) }), 100);
  return { body: { ok: true } };
});
let auditUp = true;
const audit = startHttpTarget(() => (auditUp ? { status: 200 } : { status: 503 }));

beforeAll(async () => {
  h = await createHarness();
  api = await startApi(h, tenants);
  smtp = await startSmtp();
  endpoints.smtp = { host: smtp.host, port: smtp.port, from: 'closeloop@test.local' };
  endpoints.auditReport = `${(await audit).url}/audit/agent-closure-report`;
  imUrl = (await im).url;
  escalation = {
    ...EMPTY_ESCALATION,
    routing: {
      late: { im: `${imUrl}/hooks/late` },
      customer: { im: `${(await im).url}/hooks/customer`, email: ['customer@example.com'] },
      ops: { im: `${(await im).url}/hooks/ops` },
    },
  };
  worker = await h.startWorker(
    createActivities({
      store: h.store,
      publicUrl: api.base,
      endpoints: () => endpoints,
      escalation: () => escalation,
      client: h.client,
      taskQueue: h.taskQueue,
    }),
  );
});
afterAll(async () => {
  await worker?.stop();
  api?.close();
  await smtp?.close();
  await (await im).close();
  await (await audit).close();
  await h?.close();
});

const DELIVER = (channel: string) => `ref: billing.deliver
version: 1.0.0
tasks:
  - name: generate_report
    action: core.echo
    input: { message: "invoice {{ parameters.invoice }}" }
    on_success: notify_customer
  - name: notify_customer
    action: core.notify
    input: { channel: ${channel}, to: customer, subject: "Invoice {{ parameters.invoice }}", message: "Your invoice {{ parameters.invoice }} is ready" }
    on_success: settle
  - name: settle
    action: core.echo
    input: { message: "{{ parameters.amount }}" }
`;

async function run(yaml: string, rule: ClosureRule, parameters: Record<string, unknown>): Promise<RunSummary> {
  const input: TaskflowInput = { workflow: compile(yaml), parameters, tenant: 'acme', closure: rule };
  const handle = await h.client.workflow.start(TASKFLOW, {
    taskQueue: h.taskQueue,
    workflowId: `run:acme:${randomUUID()}`,
    args: [input],
    typedSearchAttributes: [{ key: SA.tenant, value: 'acme' }],
  });
  return resultOf(handle);
}
const get = (path: string, accept = 'application/json') => fetch(`${api.base}${path}`, { headers: { authorization: `Bearer ${KEY}`, accept } });

describe('closure validation', () => {
  it('closes a run whose nodes succeeded, whose receipt arrived and whose reconciliation matched; the report is stored, sent to audit and readable as Markdown', async () => {
    receiptFor = () => ({ status: 'delivered' });
    const rule = withRuleDefaults({
      id: 'billing.delivery',
      mandatory_nodes: ['generate_report', 'notify_customer'],
      receipts: [{ node: 'notify_customer', timeout: 30 }],
      reconciliation: { action: 'core.reconcile', input: { expected: { amount: '{{ parameters.amount }}' }, observed: { amount: 100.004 } }, tolerance: 0.01 },
      deadline: 60,
      report: { notify: ['ops'], audit: true },
    });
    const summary = await run(DELIVER('im'), rule, { invoice: 'INV-1', amount: 100 });
    expect(summary.status).toBe('succeeded');
    expect(summary.closure).toMatchObject({ rule: 'billing.delivery', verdict: 'closed' });
    expect(summary.closure!.checks).toHaveLength(4);
    const desc = await h.client.workflow.getHandle(summary.id).describe();
    expect(desc.typedSearchAttributes.get(SA.closure)).toBe('closed');
    const report = (await (await get(`/v1/reports/${encodeURIComponent(summary.id)}`)).json()) as {
      closure: { verdict: string };
      audit: unknown[];
      audit_sent_at: string | null;
    };
    expect(report.closure.verdict).toBe('closed');
    expect(report.audit.length).toBeGreaterThan(5);
    expect(report.audit_sent_at).not.toBeNull();
    const md = await (await get(`/v1/reports/${encodeURIComponent(summary.id)}`, 'text/markdown')).text();
    expect(md).toContain('# Delivery report');
    expect(md).toContain('**Verdict:** closed');
    expect((await audit).received.some((r) => r.path === '/audit/agent-closure-report' && r.body.includes(summary.id))).toBe(true);
    // the report reached the rule's audience (ops) on IM
    expect((await im).received.some((r) => r.path === '/hooks/ops' && r.body.includes('Delivery report'))).toBe(true);
    const [row] = await h.store.db.select().from(closures).where(eq(closures.executionId, summary.id));
    expect(row?.verdict).toBe('closed');
  });

  it('a receipt callback that does not come in time is confirmed by polling the receiver', async () => {
    const rule = withRuleDefaults({
      id: 'late.receipt',
      receipts: [{ node: 'notify_customer', timeout: 1 }],
      remediation: [{ on: 'receipt_missing', do: 'resend', max_attempts: 2 }],
      deadline: 60,
      report: { notify: [], audit: false },
    });
    const summary = await run(DELIVER('im').replace('to: customer', 'to: late'), rule, { invoice: 'INV-5', amount: 1 });
    expect(summary.closure).toMatchObject({
      verdict: 'closed',
      checks: [{ kind: 'receipts', passed: true, remediated: false, detail: 'receipt confirmed by polling' }],
    });
    expect((await im).received.filter((r) => r.path.startsWith('/status/'))).toHaveLength(1);
  });

  it('a bounced email is resent and the run is remediated; the remediation started within seconds of the failure', async () => {
    const rule = withRuleDefaults({
      id: 'mail.delivery',
      mandatory_nodes: ['generate_report', 'notify_customer'],
      receipts: [{ node: 'notify_customer', timeout: 30 }],
      reconciliation: { action: 'core.reconcile', input: { expected: { amount: '{{ parameters.amount }}' }, observed: { amount: 5 } } },
      remediation: [{ on: 'receipt_missing', do: 'resend', max_attempts: 3 }],
      deadline: 120,
      report: { notify: [], audit: false },
    });
    const before = smtp.mails.length;
    // the mail provider: the first message bounces, the resend is delivered
    const provider = setInterval(() => {
      for (const m of smtp.mails.slice(before)) {
        const url = m.header('X-Closeloop-Receipt-Url');
        if (!url || (m as { posted?: boolean }).posted) continue;
        (m as { posted?: boolean }).posted = true;
        const n = smtp.mails.slice(before).indexOf(m);
        void fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ status: n === 0 ? 'bounced' : 'delivered' }),
        });
      }
    }, 100);
    try {
      const summary = await run(DELIVER('email'), rule, { invoice: 'INV-2', amount: 5 });
      expect(summary.closure).toMatchObject({ verdict: 'remediated' });
      expect(smtp.mails.length - before).toBe(2);
      expect(smtp.mails[before]!.to).toEqual(['customer@example.com']);
      const [row] = await h.store.db.select().from(closures).where(eq(closures.executionId, summary.id));
      const rem = row!.remediations as { do: string; outcome: string; latency_seconds: number }[];
      expect(rem).toEqual([expect.objectContaining({ do: 'resend', outcome: 'succeeded' })]);
      expect(rem[0]!.latency_seconds).toBeLessThan(5);
      const md = await (await get(`/v1/reports/${encodeURIComponent(summary.id)}`, 'text/markdown')).text();
      expect(md).toContain('**Verdict:** remediated');
      expect(md).toMatch(/\| receipt_missing \| resend \| notify_customer \| 1 \|.*\| succeeded \|/);
      expect(md).toContain('passed after remediation');
      // 100% audit coverage: every fact of the run's and the closure's histories has its audit row
      const exec = (await (await get(`/v1/executions/${encodeURIComponent(summary.id)}`)).json()) as {
        audit: { coverage: number; checked: number; missing: unknown[] };
      };
      expect(exec.audit).toMatchObject({ coverage: 1, missing: [] });
      expect(exec.audit.checked).toBeGreaterThanOrEqual(6); // run start/end, 1 notify, closure start/end, the resend
      // and the check can fail: without the resend's audit row, the history has a fact nobody recorded
      await h.store.db.delete(auditLog).where(and(eq(auditLog.executionId, `closure:${summary.id}`), eq(auditLog.kind, 'closure.remediation')));
      const broken = await checkAuditCoverage(h.client, h.store.db, summary.id);
      expect(broken.coverage).toBeLessThan(1);
      expect(broken.missing).toEqual([expect.objectContaining({ source: 'closure', kind: 'activity', name: 'notify', task: 'notify_customer' })]);
      // docs/examples/delivery-report.md is this report (CLOSELOOP_WRITE_EXAMPLES=1 npx vitest run test/closure.test.ts)
      if (process.env.CLOSELOOP_WRITE_EXAMPLES === '1') await writeFile(new URL('../docs/examples/delivery-report.md', import.meta.url), md);
    } finally {
      clearInterval(provider);
    }
  });

  it('a failed mandatory node is rebuilt with its original input and a new idempotency key', async () => {
    let calls = 0;
    const flaky = await startHttpTarget((r) => (++calls === 1 ? { status: 500 } : { body: { ok: true, key: r.headers['idempotency-key'] } }));
    try {
      const yaml = `ref: t.rebuild\nversion: 1.0.0\ntasks:\n  - name: publish\n    action: core.http\n    input: { method: POST, url: "${flaky.url}/publish", body: { doc: "{{ parameters.doc }}" } }\n`;
      const rule = withRuleDefaults({
        id: 'publish.done',
        mandatory_nodes: ['publish'],
        remediation: [{ on: 'node_failed', do: 'rebuild', max_attempts: 2 }],
        deadline: 60,
        report: { notify: [], audit: false },
      });
      const summary = await run(yaml, rule, { doc: 'D-7' });
      expect(summary.status).toBe('failed');
      expect(summary.closure).toMatchObject({ verdict: 'remediated' });
      expect(flaky.received).toHaveLength(2);
      expect(flaky.received[1]!.body).toBe(flaky.received[0]!.body);
      expect(flaky.received[1]!.headers['idempotency-key']).not.toBe(flaky.received[0]!.headers['idempotency-key']);
    } finally {
      await flaky.close();
    }
  });

  it('a reconciliation mismatch escalates to a person and opens an incident; refused, the verdict is failed and the failure is emitted', async () => {
    const rule = withRuleDefaults({
      id: 'billing.reconcile',
      reconciliation: { action: 'core.reconcile', input: { expected: { total: 100 }, observed: { total: 97.5 } }, tolerance: 0.01 },
      remediation: [{ on: 'reconciliation_mismatch', do: 'escalate', assigned_to: 'finance.approver' }],
      deadline: 60,
      report: { notify: [], audit: false },
    });
    const running = run(DELIVER('im'), rule, { invoice: 'INV-3', amount: 1 });
    let inquiry: { id: string; assigned_to: string; execution_id: string } | undefined;
    for (let i = 0; i < 100 && !inquiry; i++) {
      const list = (await (await get('/v1/inquiries?status=pending')).json()) as { inquiries: { id: string; assigned_to: string; execution_id: string }[] };
      inquiry = list.inquiries.find((q) => q.assigned_to === 'finance.approver');
      if (!inquiry) await new Promise((r) => setTimeout(r, 200));
    }
    expect(inquiry?.execution_id).toMatch(/^closure:run:acme:/);
    const bad = await fetch(`${api.base}/v1/inquiries/${encodeURIComponent(inquiry!.id)}/respond`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ response: { accept: 'no' } }),
    });
    expect(bad.status).toBe(422);
    const ok = await fetch(`${api.base}/v1/inquiries/${encodeURIComponent(inquiry!.id)}/respond`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ response: { accept: false, note: 'the ledger is short by 2.5' } }),
    });
    expect(ok.status).toBe(200);
    const summary = await running;
    expect(summary.closure).toMatchObject({ verdict: 'failed' });
    const runId = summary.id;
    const [inc] = await h.store.db
      .select()
      .from(incidents)
      .where(eq(incidents.id, `incident:acme:closure:${runId}`));
    expect(inc).toMatchObject({ source: 'closure', severity: 'critical', status: 'escalated' });
    const out = await h.store.db
      .select()
      .from(eventsOut)
      .where(eq(eventsOut.key, `closure-failed:${runId}`));
    expect(out[0]?.type).toBe('agent.workflow.closure.failed');
    const md = await (await get(`/v1/reports/${encodeURIComponent(runId)}`, 'text/markdown')).text();
    expect(md).toContain('the ledger is short by 2.5');
    const exec = (await (await get(`/v1/executions/${encodeURIComponent(runId)}`)).json()) as {
      closure: { verdict: string };
      audit: { coverage: number; missing: unknown[] };
    };
    expect(exec.closure.verdict).toBe('failed');
    expect(exec.audit).toMatchObject({ coverage: 1, missing: [] });
  });

  it('an audit endpoint that is down leaves the verdict pending_supplement; the report is supplemented when it returns', async () => {
    auditUp = false;
    receiptFor = () => ({ status: 'delivered' });
    const rule = withRuleDefaults({ id: 'audited', mandatory_nodes: ['generate_report'], deadline: 60, report: { notify: [], audit: true } });
    const summary = await run(DELIVER('im'), rule, { invoice: 'INV-4', amount: 1 });
    expect(summary.closure).toMatchObject({ verdict: 'pending_supplement' });
    const pending = await get(`/v1/reports/${encodeURIComponent(summary.id)}`);
    expect([200, 202]).toContain(pending.status);
    auditUp = true;
    let row: typeof closures.$inferSelect | undefined;
    for (let i = 0; i < 120; i++) {
      [row] = await h.store.db.select().from(closures).where(eq(closures.executionId, summary.id));
      if (row?.verdict === 'closed') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(row?.verdict).toBe('closed');
    const [rep] = await h.store.db.select().from(reports).where(eq(reports.executionId, summary.id));
    expect(rep?.auditSentAt).not.toBeNull();
  }, 60_000);

  it('exports closure, remediation, callback, audit-delay and incident metrics at /metrics', async () => {
    const text = await (await fetch(`${api.base}/metrics`)).text();
    for (const name of [
      'plugin_workflow_closure_total{',
      'verdict="closed"',
      'verdict="remediated"',
      'plugin_workflow_closure_rate',
      'agent_workflow_remediation_total{',
      'agent_workflow_remediation_latency_seconds_bucket',
      'agent_workflow_callback_latency_seconds_bucket',
      'agent_workflow_audit_delay_seconds_bucket',
      'incident_transitions_total{',
      'incidents{',
    ]) {
      expect(text, name).toContain(name);
    }
  });
});
