import { NativeConnection, Runtime, Worker, bundleWorkflowCode, type BundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createServer } from 'node:net';
import v8 from 'node:v8';
import { join } from 'node:path';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { TASK_QUEUE } from '../contracts/definitions.js';
import { PROJECT_ROOT } from './settings.js';
import { OTEL_WORKFLOW_INTERCEPTORS, type Tracing } from './tracing.js';
import { ReportingWorker } from './reporting-worker.js';

export const WORKFLOWS_PATH = join(PROJECT_ROOT, 'workflows', 'index.ts');

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];
/**
 * The SDK compiles workflow TypeScript to ES2017, which turns every object spread into a helper
 * call (a tenth of the interpreter's time per activation). Node 20 runs ES2022 natively; the code,
 * and so its commands, are the same.
 */
function es2022(config: WebpackConfig): WebpackConfig {
  for (const rule of config.module?.rules ?? []) {
    const use = rule && typeof rule === 'object' && 'use' in rule ? rule.use : undefined;
    const options =
      use && typeof use === 'object' && !Array.isArray(use) && 'options' in use ? (use.options as { jsc?: { target?: string } } | undefined) : undefined;
    if (options?.jsc?.target) options.jsc.target = 'es2022';
  }
  return config;
}

/** How every workflow bundle is built (the worker, the tests, the CLI, the benchmarks). */
export function bundleOptions(workflowsPath: string, extra: Partial<BundleOptions> = {}): BundleOptions {
  return {
    workflowsPath,
    webpackConfigHook: es2022,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    ...extra,
  };
}

let stacksDecided = false;
/**
 * The SDK's promise hook captures a source-mapped stack for every promise a workflow creates (for the
 * stack-trace query): measured at a third of the workflow thread's CPU per run. Contexts created
 * after this call (the workflow threads' sandboxes) capture no stack frames; the main thread keeps
 * its own. Closeloop's failures carry typed messages, not workflow stacks. CLOSELOOP_WORKFLOW_STACKS=1 keeps them.
 */
export function limitWorkflowStacks(keep = process.env.CLOSELOOP_WORKFLOW_STACKS === '1'): void {
  if (stacksDecided) return;
  stacksDecided = true;
  if (!keep) v8.setFlagsFromString('--stack-trace-limit=0');
}

const bundles = new Map<boolean, Promise<WorkflowBundleWithSourceMap>>();
/** The workflow bundle is built once per process (with Temporal's OpenTelemetry interceptors when tracing). */
export function workflowBundle(opts: { tracing?: boolean } = {}): Promise<WorkflowBundleWithSourceMap> {
  const tracing = opts.tracing ?? false;
  let b = bundles.get(tracing);
  if (!b) {
    b = bundleWorkflowCode(bundleOptions(WORKFLOWS_PATH, tracing ? { workflowInterceptorModules: [OTEL_WORKFLOW_INTERCEPTORS] } : {}));
    bundles.set(tracing, b);
  }
  return b;
}

export async function createWorker(opts: {
  address: string;
  namespace: string;
  taskQueue?: string;
  deps: ActivityDeps;
  maxConcurrentActivityTaskExecutions?: number;
  tracing?: Tracing;
  /** A prebuilt workflow bundle (the supervisor builds it once, so a restarted worker starts at once). */
  bundlePath?: string;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  limitWorkflowStacks();
  const connection = await NativeConnection.connect({ address: opts.address });
  // tells a supervising process which runs are on a workflow thread (workers/supervisor.ts)
  const worker = await ReportingWorker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    workflowBundle: opts.bundlePath ? { codePath: opts.bundlePath } : await workflowBundle({ tracing: Boolean(opts.tracing) }),
    activities: createActivities(opts.deps),
    ...(opts.tracing ? { interceptors: opts.tracing.workerInterceptors, sinks: opts.tracing.sinks } : {}),
    ...(opts.maxConcurrentActivityTaskExecutions ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions } : {}),
  });
  return { worker, connection };
}

const portFree = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer().once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });

/** Installs the Temporal Runtime with its Prometheus endpoint on `address` (skipped when empty or taken); returns its URL. */
export async function installWorkerRuntime(address: string): Promise<string | undefined> {
  const [host, port] = address.split(/:(?=\d+$)/);
  if (!address || !host || !port) return undefined;
  if (!(await portFree(host, Number(port)))) {
    console.warn(`closeloop: ${address} is taken; the Temporal worker's metrics are not exported (set CLOSELOOP_WORKER_METRICS_ADDRESS)`);
    return undefined;
  }
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: address, countersTotalSuffix: true, useSecondsForDurations: true } } } });
  return `http://${address}/metrics`;
}
