import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, getTableColumns, getTableName, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { bookkeepingActivities } from '../activities/bookkeeping.js';
import { migrate, openStore, rowsOf } from '../store/db.js';
import { runs, schema } from '../store/schema.js';
import { WorkflowRepo } from '../store/workflows-repo.js';
import { compile } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('embedded PGlite (the default without DATABASE_URL)', () => {
  it('applies the same migrations, works, and keeps registered workflows and finished runs across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'closeloop-pglite-'));
    dirs.push(dir);
    const first = await openStore({ pgliteDir: dir });
    expect(first.kind).toBe('pglite');
    const files = (await readdir(join(import.meta.dirname, '..', 'migrations'))).filter((f) => f.endsWith('.sql')).sort();
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(await migrate(first)).toEqual(files);
    // the drizzle schema (store/schema.ts) mirrors the SQL migrations column for column
    const columns = await rowsOf<{ table_name: string; column_name: string; is_nullable: string }>(
      first,
      sql`SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`,
    );
    const actual = columns.map((c) => `${c.table_name}.${c.column_name}${c.is_nullable === 'NO' ? '!' : ''}`).sort();
    const declared = Object.values(schema)
      .flatMap((t) => Object.values(getTableColumns(t)).map((c) => `${getTableName(t)}.${c.name}${c.notNull ? '!' : ''}`))
      .sort();
    expect(actual).toEqual(declared);
    const wf = compile('ref: t.pg\nversion: 1.2.3\ntasks:\n  - name: a\n    action: core.noop\n');
    expect(await new WorkflowRepo(first.db).register('t1', wf, 'yaml', 'me')).toBe('created');
    const book = bookkeepingActivities(first);
    await book.indexRun({
      execution_id: 'run:t1:x',
      tenant: 't1',
      workflow_ref: 't.pg',
      workflow_version: '1.2.3',
      status: 'succeeded',
      started_at: new Date().toISOString(),
      ended_at: new Date().toISOString(),
      summary: { status: 'succeeded' },
    });
    const row = { execution_id: 'run:t1:x', tenant: 't1', seq: 1, kind: 'run.started' as const, task: null, detail: {}, at: new Date().toISOString() };
    await book.recordAudit([row]);
    await book.recordAudit([row]); // a retried write adds nothing
    await first.close();

    const second = await openStore({ pgliteDir: dir });
    expect(await migrate(second)).toEqual([]);
    expect((await new WorkflowRepo(second.db).get('t1', 't.pg'))?.version).toBe('1.2.3');
    const [run] = await second.db.select().from(runs).where(eq(runs.executionId, 'run:t1:x'));
    expect(run?.summary).toEqual({ status: 'succeeded' });
    expect(await book.checkOutput({ schema: { type: 'object', required: ['a'] }, output: {} })).toEqual(["output: missing required field 'a'"]);
    await second.close();
  });
});
