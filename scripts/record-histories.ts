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
import { SA, TASKFLOW, inquiryRespondSignal, stateQuery } from '../workflows/definitions.js';
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

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // continue-as-new is suggested early so the continue-as-new fixture crosses a run boundary
  const server = await startDevServer({ cli: findTemporalCli(), port: 17233, uiPort: 18233, quiet: true, extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=200'] });
  const store = await openStore({ pgliteDir: 'memory://' });
  await migrate(store);
  const target = await startHttpTarget((r) => (r.path.includes('flaky') && r.headers['x-attempt'] === '1' ? { status: 500 } : { body: { ok: true } }));
  const mocks = parseMocks(parse(readFileSync(join(FIXTURES, 'mocks.yaml'), 'utf8')));
  const taskQueue = `record-${randomUUID()}`;
  const { worker, connection: native } = await createWorker({ address: server.address, namespace: 'default', taskQueue, deps: { store, mocks } });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const cases: [string, Record<string, unknown>][] = [
    ['sequential', { name: 'ada' }],
    ['next-and-decision', {}],
    ['items-and-retry', { url: target.url }],
    ['unhandled-failure', {}],
    ['inquiry', {}],
    ['parallel-join', {}],
    ['nested-and-shards', { items: Array.from({ length: 1200 }, (_, i) => i) }],
    ['continue-as-new', {}],
  ];
  await worker.runUntil(async () => {
    for (const [name, parameters] of cases.filter(([n]) => !ONLY || ONLY.includes(n))) {
      const id = `run:replay:${name}${SUFFIX}`;
      const known = (ref: string) => ref in mocks || ref === 'replay.sequential';
      const r = validateWorkflow(readFileSync(join(FIXTURES, `${name}.yaml`), 'utf8'), { isKnownAction: known });
      if (!r.workflow) throw new Error(`${name}: ${JSON.stringify(r.diagnostics)}`);
      const workflow = await pinNested(r.workflow, async (ref) => (ref === 'replay.sequential' ? (validateWorkflow(readFileSync(join(FIXTURES, 'sequential.yaml'), 'utf8')).workflow ?? null) : null));
      const handle = await client.workflow.start(TASKFLOW, {
        taskQueue,
        workflowId: id,
        args: [{ workflow, parameters, tenant: 'replay' }],
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
  });
  await native.close();
  await connection.close();
  await target.close();
  await store.close();
  await server.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
