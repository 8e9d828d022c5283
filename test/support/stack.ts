// `npm start`'s stack (workers/main.ts) as a real child process against the test run's Temporal server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';

export interface Stack {
  base: string;
  taskQueue: string;
  dataDir: string;
  /** Everything the stack printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when the output contains `text` (rejects after `timeoutMs`). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `npm start`'s main process with its own data directory (embedded PGlite unless `env`
 * gives DATABASE_URL), task queue and port; the shared dev server stands in for the embedded one.
 */
export async function startStack(opts: { env?: NodeJS.ProcessEnv; dataDir?: string; taskQueue?: string } = {}): Promise<Stack> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'closeloop-stack-')));
  const taskQueue = opts.taskQueue ?? `stack-${randomUUID()}`;
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['DATABASE_URL', 'NATS_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'CLOSELOOP_WORKFLOW_BUNDLE']) delete env[k];
  Object.assign(env, {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    CLOSELOOP_TASK_QUEUE: taskQueue,
    CLOSELOOP_DATA_DIR: dataDir,
    PORT: String(port),
    CLOSELOOP_WORKER_METRICS_ADDRESS: '',
    ...opts.env,
  });
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'workers', 'main.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (text: string | RegExp, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const seen = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      if (seen()) return resolve();
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`the stack did not print ${String(text)} within ${timeoutMs} ms; it printed:\n${out.slice(-4000)}`));
      }, timeoutMs);
      const check = () => {
        if (!seen()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      void exited.then(() => {
        if (!seen()) {
          clearTimeout(timer);
          listeners.delete(check);
          reject(new Error(`the stack exited before printing ${String(text)}:\n${out.slice(-4000)}`));
        }
      });
    });
  await waitFor('Closeloop is running.', 120_000);
  return {
    base: `http://127.0.0.1:${port}`,
    taskQueue,
    dataDir,
    output: () => out,
    waitFor,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
