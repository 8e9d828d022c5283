// Records Temporal histories of runs that use each construct, for the replay tests (test/histories/).
// Run: npx tsx scripts/record-histories.ts — after an intentional, patched() interpreter change only.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { validateWorkflow } from '../dsl/index.js';
import { pinNested } from '../dsl/nested.js';
import { parseMocks } from '../dsl/mocks.js';
import { parse } from 'yaml';
import { migrate, openStore } from '../store/db.js';
import { SA, TASKFLOW, inquiryRespondSignal, inquiryRespondUpdate, stateQuery } from '../contracts/definitions.js';
import { withRuleDefaults } from '../dsl/closure-rules.js';
import { RUN_FEATURES } from '../contracts/features.js';
import { incidentUpdates } from '../contracts/incident.js';
import { PROJECT_ROOT } from '../workers/settings.js';
import { findTemporalCli, startDevServer } from '../workers/temporal-cli.js';
import { createWorker } from '../workers/worker.js';
import { startHttpTarget } from '../test/http-target.js';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'replay');
const OUT = join(PROJECT_ROOT, 'test', 'histories');

// --only=a,b records some cases; --suffix=-x writes <case>-x.json (a new history beside an old one after a patch)
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const ONLY = flag('only')?.split(',');
const SUFFIX = flag('suffix') ?? '';
// --features: runs carry the current code's features in their input, as runs the API starts do (contracts/features.ts)
const FEATURES = process.argv.includes('--features') ? { features: RUN_FEATURES } : {};

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // continue-as-new is suggested early so the continue-as-new fixture crosses a run boundary
  const server = await startDevServer({
    cli: findTemporalCli(),
    port: 17233,
    uiPort: 18233,
    quiet: true,
    extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=200'],
  });
  const store = await openStore({ pgliteDir: 'memory://' });
  await migrate(store);
  const target = await startHttpTarget((r) => (r.path.includes('flaky') && r.headers['x-attempt'] === '1' ? { status: 500 } : { body: { ok: true } }));
  const mocks = parseMocks(parse(readFileSync(join(FIXTURES, 'mocks.yaml'), 'utf8')));
  const taskQueue = `record-${randomUUID()}`;
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const { worker, connection: native } = await createWorker({
    address: server.address,
    namespace: 'default',
    taskQueue,
    deps: { store, mocks, client, taskQueue },
  });
  const cases: [string, Record<string, unknown>][] = [
    ['sequential', { name: 'ada' }],
    ['next-and-decision', {}],
    ['items-and-retry', { url: target.url }],
    ['unhandled-failure', {}],
    ['inquiry', {}],
    ['parallel-join', {}],
    ['nested-and-shards', { items: Array.from({ length: 1200 }, (_, i) => i) }],
    ['continue-as-new', {}],
    ['routes-and-joins', {}],
    ['unreachable-join', {}],
    ['pacing', {}],
  ];
  await worker.runUntil(async () => {
    for (const [name, parameters] of cases.filter(([n]) => !ONLY || ONLY.includes(n))) {
      const id = `run:replay:${name}${SUFFIX}`;
      const known = (ref: string) => ref in mocks || ref === 'replay.sequential';
      const r = validateWorkflow(readFileSync(join(FIXTURES, `${name}.yaml`), 'utf8'), { isKnownAction: known });
      if (!r.workflow) throw new Error(`${name}: ${JSON.stringify(r.diagnostics)}`);
      const workflow = await pinNested(r.workflow, async (ref) =>
        ref === 'replay.sequential' ? (validateWorkflow(readFileSync(join(FIXTURES, 'sequential.yaml'), 'utf8')).workflow ?? null) : null,
      );
      const handle = await client.workflow.start(TASKFLOW, {
        taskQueue,
        workflowId: id,
        args: [{ workflow, parameters, tenant: 'replay', ...FEATURES }],
        typedSearchAttributes: [{ key: SA.tenant, value: 'replay' }],
      });
      if (name === 'inquiry') {
        while (!(await handle.query(stateQuery)).tasks.length) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 300));
        await handle.signal(inquiryRespondSignal, { inquiry_id: `${id}:approve:1`, response: { ok: 'no' }, by: 'recorder' });
        await handle.signal(inquiryRespondSignal, { inquiry_id: `${id}:approve:1`, response: { ok: true }, by: 'recorder' });
      }
      await handle.result().catch(() => undefined);
      // the first execution's history: for the continue-as-new fixture it ends with the continue event
      const first = client.workflow.getHandle(id, handle.firstExecutionRunId);
      await writeFile(join(OUT, `${name}${SUFFIX}.json`), historyToJSON(await first.fetchHistory()));
      console.log(`recorded ${name}${SUFFIX}`);
    }
    if (!ONLY || ONLY.includes('closure')) await recordClosure(client, taskQueue);
  });
  await native.close();
  await connection.close();
  await target.close();
  await store.close();
  await server.stop();
}

/**
 * A run with a closure whose reconciliation fails and is accepted by a person (closure.json, closure-run.json),
 * and the incident the escalation opened, worked to resolved (incident.json).
 */
async function recordClosure(client: Client, taskQueue: string) {
  const r = validateWorkflow(readFileSync(join(FIXTURES, 'closure.yaml'), 'utf8'));
  if (!r.workflow) throw new Error(JSON.stringify(r.diagnostics));
  const rule = withRuleDefaults({
    id: 'replay.rule',
    mandatory_nodes: ['generate', 'settle'],
    reconciliation: { action: 'core.reconcile', input: { expected: { total: 100 }, observed: { total: '{{ parameters.amount }}' } }, tolerance: 0.01 },
    remediation: [{ on: 'reconciliation_mismatch', do: 'escalate', assigned_to: 'finance' }],
    deadline: 600,
    report: { notify: [], audit: false },
  });
  const id = `run:replay:closure${SUFFIX}`;
  const handle = await client.workflow.start(TASKFLOW, {
    taskQueue,
    workflowId: id,
    args: [{ workflow: r.workflow, parameters: { amount: 97 }, tenant: 'replay', closure: rule, ...FEATURES }],
    typedSearchAttributes: [{ key: SA.tenant, value: 'replay' }],
  });
  const closure = client.workflow.getHandle(`closure:${id}`);
  const inquiryId = `closure:${id}:closure.reconciliation_mismatch:1`;
  for (;;) {
    try {
      await closure.executeUpdate(inquiryRespondUpdate, {
        args: [{ inquiry_id: inquiryId, response: { accept: true, note: 'credit note issued' }, by: 'recorder' }],
      });
      break;
    } catch {
      await new Promise((res) => setTimeout(res, 100)); // not asked yet
    }
  }
  await handle.result();
  await closure.result();
  const incident = client.workflow.getHandle(`incident:replay:closure:${id}`);
  for (const a of ['acknowledge', 'investigate'] as const) await incident.executeUpdate(incidentUpdates[a], { args: [{ by: 'recorder' }] });
  await incident.executeUpdate(incidentUpdates.resolve, { args: [{ by: 'recorder', root_cause: 'a missing credit note' }] });
  await incident.result();
  await writeFile(join(OUT, `closure-run${SUFFIX}.json`), historyToJSON(await handle.fetchHistory()));
  await writeFile(join(OUT, `closure${SUFFIX}.json`), historyToJSON(await closure.fetchHistory()));
  await writeFile(join(OUT, `incident${SUFFIX}.json`), historyToJSON(await incident.fetchHistory()));
  console.log(`recorded closure-run${SUFFIX}, closure${SUFFIX}, incident${SUFFIX}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
