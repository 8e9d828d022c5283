import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { validateWorkflow, formatDiagnostic, type CompiledWorkflow } from '../dsl/index.js';
import { startRun } from '../api/start-run.js';
import { ApiError } from '../api/errors.js';
import { migrate, openStore } from '../store/db.js';
import { secretWriter } from '../store/kv-repo.js';
import { TASK_QUEUE } from '../contracts/definitions.js';
import type { RunSummary } from '../contracts/run.js';
import { readSettings } from '../workers/settings.js';
import { findTemporalCli, startDevServer, temporalAnswers, type DevServer } from '../workers/temporal-cli.js';
import { createWorker } from '../workers/worker.js';
import { CliError, loadPackIndex, readInput, readMocks, readText, refFromPath } from './files.js';
import { mockedOf, type Mocks } from '../dsl/mocks.js';
import { loadPlugins, secretFromEnv } from '../workers/config.js';

export interface RunOptions {
  input?: string;
  mock?: string;
  wait?: boolean;
  json?: boolean;
}

async function compileTarget(target: string, configDir: string, mocks: Mocks | undefined): Promise<CompiledWorkflow> {
  const { refs: mockRefs, tasks: mockTasks } = mockedOf(mocks);
  const packs = await loadPackIndex(configDir);
  const mocked = new Set(mockRefs);
  const fromPack = packs.workflows.get(target);
  const file = fromPack?.file ?? target;
  const yaml = fromPack?.yaml ?? (await readText(target));
  const r = validateWorkflow(yaml, {
    isKnownAction: packs.known(mocked),
    isMockedTask: (n) => mockTasks.includes(n),
    limits: packs.limits,
    dialect: { ref: refFromPath(file) },
  });
  for (const d of r.diagnostics) console.error(formatDiagnostic(file, d));
  if (!r.workflow) throw new CliError(`${file}: invalid workflow`, 1);
  return packs.pin(r.workflow, mocked);
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** `closeloop run`: starts a run; uses TEMPORAL_ADDRESS or an ephemeral dev server when none answers. */
export async function runCommand(target: string, opts: RunOptions): Promise<number> {
  const settings = readSettings();
  const mocks = await readMocks(opts.mock);
  const compiled = await compileTarget(target, settings.configDir, mocks);
  const workflow = mocks ? { ...compiled, mocked: mockedOf(mocks) } : compiled;
  const parameters = await readInput(opts.input);
  // expected business failures of mocked actions are part of the summary; keep the log for real errors
  Runtime.install({ logger: new DefaultLogger('ERROR') });

  let address = settings.temporalAddress ?? '127.0.0.1:7233';
  let ephemeral: DevServer | undefined;
  if (!(await temporalAnswers(address))) {
    if (settings.temporalAddress) throw new CliError(`no Temporal server answers at TEMPORAL_ADDRESS=${address}`);
    if (!opts.wait)
      throw new CliError('no Temporal server answers on 127.0.0.1:7233: start one with `npm start`, or pass --wait to run on an ephemeral server');
    const port = await freePort();
    ephemeral = await startDevServer({
      cli: findTemporalCli(settings.temporalCliPath),
      port,
      uiPort: await freePort(),
      namespace: settings.namespace,
      quiet: true,
    });
    address = ephemeral.address;
    if (!opts.json) console.error(`closeloop: no server on 127.0.0.1:7233; started an ephemeral dev server on ${address}`);
  }
  // mocks (or an ephemeral server nobody else polls) need this process's own worker on a private queue
  const ownWorker = !!mocks || !!ephemeral;
  const taskQueue = ownWorker ? `closeloop-cli-${randomUUID()}` : TASK_QUEUE;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: settings.namespace });
  const store = ownWorker ? await openStore(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : { pgliteDir: 'memory://' }) : undefined;
  try {
    if (store) await migrate(store);
    let started;
    try {
      started = await startRun(client, {
        workflow,
        parameters,
        tenant: 'default',
        taskQueue,
        startedBy: 'cli',
        ...(store ? { storeSecret: secretWriter(store.db) } : {}),
      });
    } catch (err) {
      if (err instanceof ApiError) throw new CliError(`${err.message}`, 1);
      throw err;
    }
    if (!opts.wait) {
      console.log(opts.json ? JSON.stringify(started) : `started ${started.execution_id}`);
      return 0;
    }
    const waitForResult = async (): Promise<RunSummary> => {
      try {
        return (await client.workflow.getHandle(started.execution_id).result()) as RunSummary;
      } catch (err) {
        const details = (err as { cause?: { details?: unknown[] } }).cause?.details;
        if (details?.[0]) return details[0] as RunSummary;
        throw err;
      }
    };
    let summary: RunSummary;
    const plugins = await loadPlugins(settings.configDir);
    if (ownWorker) {
      const { worker, connection: native } = await createWorker({
        address,
        namespace: settings.namespace,
        taskQueue,
        deps: { store: store!, plugins: () => plugins, pluginSecret: secretFromEnv(), ...(mocks ? { mocks } : {}) },
      });
      summary = await worker.runUntil(waitForResult());
      await native.close();
    } else summary = await waitForResult();
    if (opts.json) console.log(JSON.stringify(summary, null, 2));
    else {
      console.log(`${summary.id}: ${summary.status}${summary.error ? ` — ${summary.error.message}` : ''}`);
      for (const t of summary.tasks) console.log(`  ${t.status.padEnd(10)} ${t.name} (runs ${t.runs}, attempts ${t.attempts})`);
      console.log(`output: ${JSON.stringify(summary.output)}`);
    }
    return summary.status === 'succeeded' ? 0 : 1;
  } finally {
    await connection.close();
    await store?.close();
    await ephemeral?.stop();
  }
}
