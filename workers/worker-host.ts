import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Store } from '../store/db.js';
import { serveStore } from '../store/ipc-store.js';
import { quarantineRun } from './quarantine.js';
import { PROJECT_ROOT, type Settings } from './settings.js';
import { WorkerSupervisor } from './supervisor.js';
import { workflowBundle } from './worker.js';

export const WORKER_PROCESS = join(PROJECT_ROOT, 'workers', 'worker-process.ts');

/** The workflow bundle, built once here so a restarted worker process starts without building it again. */
async function bundlePath(settings: Settings): Promise<string> {
  if (settings.workflowBundle) return settings.workflowBundle;
  const tracing = Boolean(settings.otlpEndpoint);
  const file = join(settings.dataDir, tracing ? 'workflow-bundle.tracing.js' : 'workflow-bundle.js');
  // a fresh checkout or image has no data directory yet (`npm run worker` in the compose file)
  await mkdir(settings.dataDir, { recursive: true });
  await writeFile(file, (await workflowBundle({ tracing })).code);
  return file;
}

/**
 * Starts the worker in its own supervised process (workers/supervisor.ts): the API of `npm start`
 * keeps answering whatever a workflow task does to the worker. Without DATABASE_URL the worker
 * process reaches the embedded database through this one.
 */
export async function startWorkerProcess(
  settings: Settings,
  deps: { address: string; store: Store; client: Client; log?: (line: string) => void; env?: NodeJS.ProcessEnv },
): Promise<WorkerSupervisor> {
  const supervisor = new WorkerSupervisor({
    entry: WORKER_PROCESS,
    env: { ...(deps.env ?? process.env), TEMPORAL_ADDRESS: deps.address, CLOSELOOP_WORKFLOW_BUNDLE: await bundlePath(settings) },
    workflowTaskLimitMs: settings.workflowTaskLimitS * 1000,
    quarantine: (s, crashes) => quarantineRun({ client: deps.client, store: deps.store }, s, crashes),
    ...(settings.databaseUrl ? {} : { attach: (child) => serveStore(child, deps.store) }),
    ...(deps.log ? { log: deps.log } : {}),
  });
  await supervisor.start();
  return supervisor;
}
