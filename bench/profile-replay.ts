// Profiles replay of a 1,000-task history: npx tsx bench/profile-replay.ts (writes bench/results/replay-1000.json once);
// --compare-walks alternates the replayer with and without the SDK's payload walks (workers/replay.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { validateWorkflow } from '../dsl/index.js';
import { migrate, openStore } from '../store/db.js';
import { PROJECT_ROOT } from '../workers/settings.js';
import { findTemporalCli, startDevServer } from '../workers/temporal-cli.js';
import { bundleOptions, limitWorkflowStacks } from '../workers/worker.js';
import { replayHistory } from '../workers/replay.js';

limitWorkflowStacks(); // as the product's worker runs
Runtime.install({ logger: new DefaultLogger('ERROR') });
const file = join(PROJECT_ROOT, 'bench', 'results', 'replay-1000.json');
const workflowBundle = await bundleWorkflowCode(bundleOptions(join(PROJECT_ROOT, 'workflows', 'index.ts')));
if (!existsSync(file)) {
  const server = await startDevServer({
    cli: findTemporalCli(),
    port: 17533,
    uiPort: 18533,
    quiet: true,
    extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=100000'],
  });
  const store = await openStore({ pgliteDir: 'memory://' });
  await migrate(store);
  const yaml = `ref: bench.replay\nversion: 1.0.0\ntasks:\n${Array.from({ length: 1000 }, (_, i) => `  - name: t${i}\n    action: bench.work\n    input: { n: ${i} }\n${i < 999 ? `    on_success: t${i + 1}\n` : ''}`).join('')}`;
  const wf = validateWorkflow(yaml, { isKnownAction: () => true }).workflow!;
  const native = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const worker = await Worker.create({
    connection: native,
    taskQueue: 'p',
    workflowBundle,
    activities: createActivities({ store, mocks: { 'bench.work': { result: { n: '{{ input.n }}' } } } }),
  });
  const id = `run:bench:${randomUUID()}`;
  await worker.runUntil(client.workflow.execute('taskflow', { taskQueue: 'p', workflowId: id, args: [{ workflow: wf, parameters: {}, tenant: 'bench' }] }));
  writeFileSync(file, historyToJSON(await client.workflow.getHandle(id).fetchHistory()));
  await server.stop();
}
const history = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
const replay = async (payloadWalks: boolean) => {
  const t0 = performance.now();
  await replayHistory({ workflowBundle }, history, 'x', { payloadWalks });
  return Math.round(performance.now() - t0);
};
if (process.argv.includes('--compare-walks')) {
  // the replayer as shipped against the same replayer with the SDK's payload walks kept, alternating
  const ms: Record<'skipped' | 'kept', number[]> = { skipped: [], kept: [] };
  for (let i = 0; i < Number(process.env.REPEAT ?? 8); i++)
    for (const walks of i % 2 ? [false, true] : [true, false]) ms[walks ? 'kept' : 'skipped'].push(await replay(walks));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(
    `replay of ${history.events?.length} events, median of ${ms.kept.length}: ${median(ms.skipped)} ms with the payload walks skipped, ${median(ms.kept)} ms with them kept`,
    ms,
  );
} else {
  for (let i = 0; i < Number(process.env.REPEAT ?? 3); i++) console.log(`replay of ${history.events?.length} events: ${await replay(false)} ms`);
}
