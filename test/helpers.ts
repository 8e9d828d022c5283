import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type Logger } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import type { Mocks } from '../dsl/mocks.js';
import { validateWorkflow, type CompiledWorkflow } from '../dsl/index.js';
import { openStore, type Store } from '../store/db.js';
import { SA, TASKFLOW } from '../contracts/definitions.js';
import type { RunSummary, TaskflowInput } from '../contracts/run.js';
import { TEST_DATABASE_URL } from './database-url.js';
import { limitWorkflowStacks } from '../workers/worker.js';

export interface Harness {
  client: Client;
  store: Store;
  taskQueue: string;
  /** Runs `fn` while a worker polls this file's private task queue. */
  withWorker<T>(fn: () => Promise<T>, opts?: { mocks?: Mocks; deps?: Partial<ActivityDeps> }): Promise<T>;
  /** A worker that polls this file's task queue until `stop` (for files whose tests share one worker). */
  startWorker(activities: object): Promise<{ stop(): Promise<void> }>;
  close(): Promise<void>;
}

let runtimeInstalled = false;
/** Runtime.install once per process, before any connection: worker logs at WARN keep test output readable. */
export function installRuntime(logger: Logger = new DefaultLogger('WARN')): void {
  if (runtimeInstalled) return;
  limitWorkflowStacks(); // tests run workflows the way the product's worker does
  Runtime.install({ logger });
  runtimeInstalled = true;
}

export async function createHarness(): Promise<Harness> {
  installRuntime();
  const address = inject('temporalAddress');
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const store = await openStore({ databaseUrl: TEST_DATABASE_URL });
  const taskQueue = `test-${randomUUID()}`;
  const native = await NativeConnection.connect({ address });
  return {
    client,
    store,
    taskQueue,
    async startWorker(activities) {
      const worker = await Worker.create({ connection: native, taskQueue, workflowBundle: { codePath: inject('bundlePath') }, activities });
      const done = worker.run();
      return {
        async stop() {
          worker.shutdown();
          await done;
        },
      };
    },
    async withWorker(fn, opts = {}) {
      const worker = await Worker.create({
        connection: native,
        taskQueue,
        workflowBundle: { codePath: inject('bundlePath') },
        activities: createActivities({ store, ...(opts.mocks ? { mocks: opts.mocks } : {}), ...opts.deps }),
      });
      return worker.runUntil(fn);
    },
    async close() {
      await native.close();
      await connection.close();
      await store.close();
    },
  };
}

export function compile(yaml: string, knownActions: string[] = []): CompiledWorkflow {
  const r = validateWorkflow(yaml, { isKnownAction: (ref) => knownActions.includes(ref) });
  if (!r.workflow) throw new Error(`invalid test workflow:\n${r.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n')}`);
  return r.workflow;
}

/** Starts a taskflow run and returns its summary whether it succeeded or failed. */
export async function runWorkflow(
  h: Harness,
  workflow: CompiledWorkflow,
  parameters: Record<string, unknown> = {},
  opts: { tenant?: string; id?: string } = {},
): Promise<RunSummary> {
  const tenant = opts.tenant ?? 'test';
  const input: TaskflowInput = { workflow, parameters, tenant };
  const handle = await h.client.workflow.start(TASKFLOW, {
    taskQueue: h.taskQueue,
    workflowId: opts.id ?? `run:${tenant}:${randomUUID()}`,
    args: [input],
    typedSearchAttributes: [
      { key: SA.tenant, value: tenant },
      { key: SA.workflow, value: workflow.ref },
      { key: SA.status, value: 'running' },
    ],
  });
  return resultOf(handle);
}

export async function resultOf(handle: { result(): Promise<unknown> }): Promise<RunSummary> {
  try {
    return (await handle.result()) as RunSummary;
  } catch (err) {
    const details = (err as { cause?: { details?: unknown[] } }).cause?.details;
    if (details?.[0]) return details[0] as RunSummary;
    throw err;
  }
}
