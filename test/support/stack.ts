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

/** A Node process of the product (an entry under the project root) with its output captured. */
export interface Proc {
  child: ChildProcess;
  output(): string;
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (to the whole process group when started detached) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node --import tsx <entry>` and resolves once it printed `ready`. */
export async function startNode(entry: string, opts: { env: NodeJS.ProcessEnv; ready: string | RegExp; detached?: boolean; readyMs?: number }): Promise<Proc> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', '..', entry)], {
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
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
        reject(new Error(`${entry} did not print ${String(text)} within ${timeoutMs} ms; it printed:\n${out.slice(-4000)}`));
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
          reject(new Error(`${entry} exited before printing ${String(text)}:\n${out.slice(-4000)}`));
        }
      });
    });
  await waitFor(opts.ready, opts.readyMs ?? 120_000);
  return {
    child,
    output: () => out,
    waitFor,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        if (opts.detached) process.kill(-child.pid!, signal);
        else child.kill(signal);
      }
      return exited;
    },
  };
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
  const p = await startNode(join('workers', 'main.ts'), { env, ready: 'Closeloop is running.' });
  return { base: `http://127.0.0.1:${port}`, taskQueue, dataDir, output: p.output, waitFor: p.waitFor, stop: p.stop };
}
