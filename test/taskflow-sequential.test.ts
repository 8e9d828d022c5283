import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, asc } from 'drizzle-orm';
import { auditLog, runs } from '../store/schema.js';
import { compile, createHarness, runWorkflow, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

describe('taskflow: sequential transitions on a real Temporal server', () => {
  it('runs legacy transitions, publish, vars and output_map, and writes the audit log', async () => {
    const wf = compile(`
ref: t.seq
version: 1.0.0
parameters:
  name: { type: string, required: true }
  count: { type: integer, default: 2 }
vars: { greeting: null }
output: { type: object, required: [greeting, total], properties: { greeting: { type: string }, total: { type: integer } } }
tasks:
  - name: hello
    action: core.echo
    input: { message: "hello {{ parameters.name | upper }}" }
    publish:
      - greeting: "{{ result().message }}"
    on_success: add
  - name: add
    action: core.noop
    on_complete: [done]
  - name: done
    action: core.noop
output_map:
  greeting: "{{ vars.greeting }}"
  total: "{{ parameters.count + 1 }}"
`);
    const summary = await h.withWorker(() => runWorkflow(h, wf, { name: 'ada', count: 2 }));
    expect(summary.status).toBe('succeeded');
    expect(summary.output).toEqual({ greeting: 'hello ADA', total: 3 });
    expect(summary.tasks.map((t) => [t.name, t.status, t.runs])).toEqual([
      ['hello', 'succeeded', 1],
      ['add', 'succeeded', 1],
      ['done', 'succeeded', 1],
    ]);
    const rows = await h.store.db.select().from(auditLog).where(eq(auditLog.executionId, summary.id)).orderBy(asc(auditLog.seq));
    const kinds = rows.map((r) => `${r.kind}${r.task ? `:${r.task}` : ''}`);
    expect(kinds[0]).toBe('run.started');
    expect(kinds).toContain('transition:hello');
    expect(kinds).toContain('var.set:hello');
    expect(kinds.at(-1)).toBe('run.completed');
    const [run] = await h.store.db.select().from(runs).where(eq(runs.executionId, summary.id));
    expect(run?.status).toBe('succeeded');
    expect((run?.summary as { output: unknown }).output).toEqual({ greeting: 'hello ADA', total: 3 });
  });

  it('a handled failure leaves the run succeeded; an unhandled one fails it with the task error', async () => {
    const handled = compile(`
ref: t.handled
version: 1.0.0
tasks:
  - name: boom
    action: core.fail
    input: { message: "kaput" }
    on_failure: recover
  - name: recover
    action: core.echo
    input: { message: "recovered from {{ task.boom.error.message }}" }
`);
    const unhandled = compile(`
ref: t.unhandled
version: 1.0.0
tasks:
  - name: boom
    action: core.fail
    input: { message: "kaput" }
    on_success: never
  - name: never
    action: core.noop
`);
    const [a, b] = await h.withWorker(() => Promise.all([runWorkflow(h, handled), runWorkflow(h, unhandled)]));
    expect(a.status).toBe('succeeded');
    expect(a.tasks.find((t) => t.name === 'recover')?.result).toEqual({ message: 'recovered from kaput' });
    expect(b.status).toBe('failed');
    expect(b.error?.message).toContain('kaput');
    expect(b.tasks.map((t) => t.name)).toEqual(['boom']);
  });

  it('next: every matching entry fires in order and each publish is visible to the next when', async () => {
    const wf = compile(`
ref: t.next
version: 1.0.0
vars: { n: 0 }
tasks:
  - name: start
    action: core.echo
    input: { message: go }
    next:
      - when: "{{ succeeded() }}"
        publish: [ { n: "{{ vars.n + 1 }}" } ]
        do: a
      - when: "{{ vars.n == 1 }}"
        publish: [ { n: "{{ vars.n + 10 }}" } ]
        do: "b, c"
      - when: "{{ failed() }}"
        do: fail
  - name: a
    action: core.noop
  - name: b
    action: core.noop
  - name: c
    action: core.noop
output_map: { n: "{{ vars.n }}" }
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('succeeded');
    expect(s.output).toEqual({ n: 11 });
    expect(s.tasks.map((t) => t.name).sort()).toEqual(['a', 'b', 'c', 'start']);
  });

  it('skips a task whose when is false and still fires its on_complete', async () => {
    const wf = compile(`
ref: t.when
version: 1.0.0
tasks:
  - name: maybe
    action: core.echo
    when: "{{ false }}"
    input: { message: x }
    on_success: not_this
    on_complete: after
  - name: not_this
    action: core.noop
  - name: after
    action: core.noop
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.tasks.map((t) => [t.name, t.status])).toEqual([
      ['maybe', 'skipped'],
      ['after', 'succeeded'],
    ]);
  });
});
