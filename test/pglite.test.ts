import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { bookkeepingActivities } from '../activities/bookkeeping.js';
import { migrate, openStore } from '../store/db.js';
import { runs } from '../store/schema.js';
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
    expect(await migrate(first)).toEqual(['0001_init.sql', '0002_inquiries.sql', '0003_kv.sql', '0004_callbacks.sql']);
    const wf = compile('ref: t.pg\nversion: 1.2.3\ntasks:\n  - name: a\n    action: core.noop\n');
    expect(await new WorkflowRepo(first.db).register('t1', wf, 'yaml', 'me')).toBe('created');
    const book = bookkeepingActivities(first);
    await book.indexRun({ execution_id: 'run:t1:x', tenant: 't1', workflow_ref: 't.pg', workflow_version: '1.2.3', status: 'succeeded', started_at: new Date().toISOString(), ended_at: new Date().toISOString(), summary: { status: 'succeeded' } });
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
