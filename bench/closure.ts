// `npm run bench:closure`: what closing the loop costs and how fast remediation starts, measured in one run
// against the same workflow without a closure rule, on the same server, worker, database and receivers.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { createApp } from '../api/app.js';
import { withRuleDefaults } from '../dsl/closure-rules.js';
import { EMPTY_ESCALATION } from '../dsl/escalation.js';
import { validateWorkflow } from '../dsl/index.js';
import { migrate, openStore } from '../store/db.js';
import { closures } from '../store/schema.js';
import { PROJECT_ROOT } from '../workers/settings.js';
import { findTemporalCli, startDevServer } from '../workers/temporal-cli.js';
import { limitWorkflowStacks, workflowBundle } from '../workers/worker.js';
import type { TaskflowInput } from '../contracts/run.js';
import { eq } from 'drizzle-orm';

limitWorkflowStacks();
Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const RUNS = arg('runs', 20);
const BOUNCES = arg('bounces', 10);

const listen = (s: Server) => new Promise<string>((res) => s.listen(0, '127.0.0.1', () => res(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main() {
  const server = await startDevServer({ cli: findTemporalCli(), port: 17533, uiPort: 18533, quiet: true });
  const store = await openStore(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { pgliteDir: 'memory://' });
  await migrate(store);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = `bench-closure-${randomUUID()}`;
  const api = createApp({ store, client, tenants: () => ({ tenants: new Map(), keys: [] }), taskQueue }).listen(0, '127.0.0.1');
  await new Promise((r) => api.once('listening', r));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  // the customer's inbox: posts the receipt back at once; for "bounce" invoices the first message bounces
  const bounced = new Set<string>();
  const bounceSentAt = new Map<string, number>();
  const resendArrived = new Map<string, number>();
  const inbox = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { metadata: { invoice: string }; receipt: { url: string } };
      const inv = body.metadata.invoice;
      const bounce = inv.startsWith('bounce') && !bounced.has(inv);
      if (inv.startsWith('bounce') && !bounce && !resendArrived.has(inv)) resendArrived.set(inv, performance.now());
      if (bounce) bounced.add(inv);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      setImmediate(() => {
        if (bounce) bounceSentAt.set(inv, performance.now());
        void fetch(body.receipt.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ status: bounce ? 'bounced' : 'delivered' }),
        });
      });
    });
  });
  const inboxUrl = await listen(inbox);
  const escalation = { ...EMPTY_ESCALATION, routing: { customer: { webhook: `${inboxUrl}/hooks/customer` } } };
  const native = await NativeConnection.connect({ address: server.address });
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ store, publicUrl: apiUrl, escalation: () => escalation, client, taskQueue }),
  });
  const v = validateWorkflow(
    `ref: bench.deliver\nversion: 1.0.0\ntasks:\n  - name: generate_report\n    action: core.echo\n    input: { message: "{{ parameters.invoice }}" }\n    publish: [ { total: 100 } ]\n    on_success: notify_customer\n  - name: notify_customer\n    action: core.notify\n    input: { channel: webhook, to: customer, message: "invoice {{ parameters.invoice }}", metadata: { invoice: "{{ parameters.invoice }}" } }\n`,
  );
  if (!v.workflow) throw new Error(JSON.stringify(v.diagnostics));
  const rule = withRuleDefaults({
    id: 'bench.delivery',
    mandatory_nodes: ['generate_report', 'notify_customer'],
    receipts: [{ node: 'notify_customer', timeout: 60 }],
    reconciliation: { action: 'core.reconcile', input: { expected: { total: 100 }, observed: { total: '{{ vars.total }}' } }, tolerance: 0.01 },
    remediation: [{ on: 'receipt_missing', do: 'resend', max_attempts: 3 }],
    deadline: 120,
    report: { notify: [], audit: false },
  });
  const runOnce = async (invoice: string, withClosure: boolean) => {
    const input: TaskflowInput = { workflow: v.workflow!, parameters: { invoice }, tenant: 'bench', ...(withClosure ? { closure: rule } : {}) };
    const t0 = performance.now();
    const summary = (await client.workflow.execute('taskflow', { taskQueue, workflowId: `run:bench:${invoice}`, args: [input] })) as {
      closure: { verdict: string } | null;
    };
    return { ms: performance.now() - t0, verdict: summary.closure?.verdict ?? null };
  };
  const results = await worker.runUntil(async () => {
    await runOnce(`warm-${randomUUID()}`, true);
    const plain: number[] = [];
    const closed: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      plain.push((await runOnce(`plain-${i}-${randomUUID()}`, false)).ms);
      const c = await runOnce(`closed-${i}-${randomUUID()}`, true);
      if (c.verdict !== 'closed') throw new Error(`expected closed, got ${c.verdict}`);
      closed.push(c.ms);
    }
    const wall: number[] = [];
    const workflowTime: number[] = [];
    for (let i = 0; i < BOUNCES; i++) {
      const inv = `bounce-${i}-${randomUUID()}`;
      const r = await runOnce(inv, true);
      if (r.verdict !== 'remediated') throw new Error(`expected remediated, got ${r.verdict}`);
      wall.push(resendArrived.get(inv)! - bounceSentAt.get(inv)!);
      const [row] = await store.db
        .select()
        .from(closures)
        .where(eq(closures.executionId, `run:bench:${inv}`));
      workflowTime.push((row?.remediationSeconds ?? 0) * 1000);
    }
    return { plain, closed, wall, workflowTime };
  });
  const report = {
    measured_at: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    closure_overhead: {
      runs: RUNS,
      without_closure_ms_p50: Math.round(pct(results.plain, 50)),
      with_closure_ms_p50: Math.round(pct(results.closed, 50)),
      overhead_ms_p50: Math.round(pct(results.closed, 50) - pct(results.plain, 50)),
      ratio_p50: +(pct(results.closed, 50) / pct(results.plain, 50)).toFixed(3),
      note: 'closure = a child workflow: receipt (callback through the API), mandatory nodes, core.reconcile, verdict, report stored',
    },
    remediation_latency: {
      runs: BOUNCES,
      bounce_to_resend_arrived_ms_p50: Math.round(pct(results.wall, 50)),
      bounce_to_resend_arrived_ms_max: Math.round(Math.max(...results.wall)),
      workflow_time_ms_max: Math.round(Math.max(...results.workflowTime)),
      target: 'remediation starts within 120 s of the failure being known',
    },
  };
  await mkdir(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(join(PROJECT_ROOT, 'bench', 'results', 'closure-latest.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(JSON.stringify(report, null, 2));
  api.close();
  inbox.close();
  await native.close();
  await connection.close();
  await store.close();
  await server.stop();
}
await main();
