import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { NativeConnection, Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { createActivities } from '../activities/index.js';
import { checkAuditCoverage } from '../api/audit-check.js';
import { migrate, openStore, type Store } from '../store/db.js';
import { runs } from '../store/schema.js';
import { SA, TASKFLOW } from '../contracts/definitions.js';
import { compile, createHarness, resultOf, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';

/** A private PostgreSQL server (the shared one serves the other test files), so this test may stop it. */
const PG_BIN = (() => {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const v = readdirSync(base)
    .sort((a, b) => Number(b) - Number(a))
    .find((d) => existsSync(join(base, d, 'bin', 'pg_ctl')));
  return v ? join(base, v, 'bin') : null;
})();
const asRoot = userInfo().uid === 0;
const pg = (tool: string, args: string[]) =>
  execFileSync(asRoot ? 'runuser' : join(PG_BIN!, tool), asRoot ? ['-u', 'postgres', '--', join(PG_BIN!, tool), ...args] : args, { stdio: 'pipe' });
const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

let dir: string | undefined;
afterAll(() => {
  if (!dir) return;
  try {
    pg('pg_ctl', ['-D', dir, '-m', 'immediate', 'stop']);
  } catch {
    // already stopped
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('disasters', () => {
  it.skipIf(!PG_BIN)(
    'PostgreSQL stopped for 30 s in the middle of a run: the audit and index writes retry, the run completes, nothing is lost',
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'closeloop-pg-'));
      if (asRoot)
        chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
      pg('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
      const port = await freePort();
      const start = () =>
        pg('pg_ctl', ['-D', dir!, '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`, '-l', join(dir!, 'log'), '-w', 'start']);
      start();
      let store: Store | undefined;
      let h: Harness | undefined;
      const target = await startHttpTarget(() => ({ delayMs: 400, body: { ok: true } }));
      try {
        store = await openStore({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres` });
        await migrate(store);
        h = await createHarness();
        const tasks = Array.from(
          { length: 12 },
          (_, i) =>
            `\n  - name: step${i + 1}\n    action: core.http\n    input: { method: POST, url: "${target.url}/s", body: { step: ${i + 1} } }\n    ${i < 11 ? `on_success: step${i + 2}` : ''}`,
        ).join('');
        const wf = compile(`ref: t.dbdown\nversion: 1.0.0\ntasks:${tasks}\n`);
        const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
        const taskQueue = `dbdown-${randomUUID()}`;
        const worker = await Worker.create({
          connection,
          taskQueue,
          workflowBundle: { codePath: inject('bundlePath') },
          activities: createActivities({ store }),
        });
        const id = `run:test:dbdown-${randomUUID()}`;
        const summary = await worker.runUntil(async () => {
          const handle = await h!.client.workflow.start(TASKFLOW, {
            taskQueue,
            workflowId: id,
            args: [{ workflow: wf, parameters: {}, tenant: 'test' }],
            typedSearchAttributes: [{ key: SA.tenant, value: 'test' }],
          });
          while (target.received.length < 3) await new Promise((r) => setTimeout(r, 20));
          pg('pg_ctl', ['-D', dir!, '-m', 'fast', 'stop']);
          await new Promise((r) => setTimeout(r, 30_000));
          start();
          return resultOf(handle);
        });
        await connection.close();
        expect(summary.status).toBe('succeeded');
        expect(summary.tasks).toHaveLength(12);
        expect(target.received).toHaveLength(12);
        const [row] = await store.db.select().from(runs).where(eq(runs.executionId, id));
        expect(row?.status).toBe('succeeded');
        const coverage = await checkAuditCoverage(h.client, store.db, id);
        expect(coverage).toMatchObject({ coverage: 1, missing: [] });
        expect(coverage.checked).toBe(14); // start, 12 attempts, end
      } finally {
        await target.close();
        await store?.close();
        await h?.close();
      }
    },
    150_000,
  );
});
