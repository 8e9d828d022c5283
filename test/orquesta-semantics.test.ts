// Issue #13's bugs, on the real server: concurrent runs of one task, joins reached twice by one task,
// routes, completed(), and the output of a run failed on purpose.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../store/schema.js';
import { asc, eq } from 'drizzle-orm';
import { compile, createHarness, runWorkflow, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';

let h: Harness;
const target = startHttpTarget(() => ({ delayMs: 300, body: { ok: true } }));
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await (await target).close();
  await h?.close();
});

async function auditOf(id: string) {
  return h.store.db.select().from(auditLog).where(eq(auditLog.executionId, id)).orderBy(asc(auditLog.seq));
}

describe('Orquesta semantics on the real server', () => {
  it('two runs of one task at once each fire their own transitions: what follows runs twice, with a transition row per run', async () => {
    const { url } = await target;
    const wf = compile(`
ref: o.per_run
version: 1.0.0
tasks:
  - name: a
    action: core.noop
    next: [ { when: "{{ succeeded() }}", do: "b, c" } ]
  - name: b
    action: core.noop
    next: [ { when: "{{ succeeded() }}", do: slow } ]
  - name: c
    action: core.noop
    next: [ { when: "{{ succeeded() }}", do: slow } ]
  - name: slow
    action: core.http
    input: { url: "${url}/slow" }
    next:
      - when: "{{ succeeded() and result().status == 200 }}"
        do: after
  - name: after
    action: core.noop
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('succeeded');
    expect(s.tasks.find((t) => t.name === 'slow')).toMatchObject({ runs: 2, status: 'succeeded' });
    expect(s.tasks.find((t) => t.name === 'after')).toMatchObject({ runs: 2 });
    const rows = await auditOf(s.id);
    expect(rows.filter((r) => r.kind === 'transition' && r.task === 'slow')).toHaveLength(2);
    // each run of `slow` began on a route of its own
    expect(rows.filter((r) => r.kind === 'task.started' && r.task === 'slow').map((r) => (r.detail as { route: number }).route)).toEqual([1, 2]);
  });

  it('a join reached by two matching entries of one upstream task runs once', async () => {
    const { url } = await target;
    // a is the last to arrive: both its entries lead to the join at once
    const wf = compile(`
ref: o.join_once
version: 1.0.0
tasks:
  - name: a
    action: core.http
    input: { url: "${url}/a" }
    next:
      - when: "{{ succeeded() }}"
        do: j
      - do: j
  - name: b
    action: core.noop
    on_success: j
  - name: j
    action: core.noop
    join: all
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('succeeded');
    expect(s.tasks.find((t) => t.name === 'j')).toMatchObject({ runs: 1 });
  });

  it('a split joins within each route: the join after a split task runs once per route', async () => {
    const wf = compile(`
ref: o.routes
version: 1.0.0
tasks:
  - name: a
    action: core.noop
    on_success: [b, c]
  - name: b
    action: core.noop
    on_success: d
  - name: c
    action: core.noop
    on_success: d
  - name: d
    action: core.noop
    on_success: [e, f]
  - name: e
    action: core.noop
    on_success: g
  - name: f
    action: core.noop
    on_success: g
  - name: g
    action: core.echo
    join: all
    input: { message: joined }
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('succeeded');
    expect(s.tasks.find((t) => t.name === 'd')).toMatchObject({ runs: 2 });
    expect(s.tasks.find((t) => t.name === 'g')).toMatchObject({ runs: 2, status: 'succeeded' });
    const started = (await auditOf(s.id)).filter((r) => r.kind === 'task.started' && r.task === 'g').map((r) => r.detail as { route: number; via: string[] });
    expect(started).toEqual([
      { run: 1, action: 'core.echo', route: 1, via: ['e', 'f'] },
      { run: 2, action: 'core.echo', route: 2, via: ['e', 'f'] },
    ]);
  });

  it('completed() is a function of the run; a run failed on purpose still renders its output', async () => {
    const wf = compile(`
ref: o.completed
version: 1.0.0
vars: { seen: none }
tasks:
  - name: a
    action: core.fail
    input: { message: broken }
    next:
      - when: "{{ completed() }}"
        publish: [ { seen: "{{ 'ended' }}" } ]
        do: fail
output_map: { seen: "{{ vars.seen }}" }
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('failed');
    expect(s.error).toMatchObject({ type: 'Fail' });
    expect(s.output).toEqual({ seen: 'ended' });
  });
});
