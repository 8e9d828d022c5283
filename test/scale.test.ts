import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASKFLOW } from '../contracts/definitions.js';
import { eq } from 'drizzle-orm';
import { auditLog } from '../store/schema.js';
import { compile, createHarness, resultOf, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

/** History lengths of a run's executions: every continue-as-new run and every child shard. */
async function historyLengths(workflowId: string): Promise<number[]> {
  const lengths: number[] = [];
  for await (const w of h.client.workflow.list({ query: `WorkflowId = '${workflowId}' OR RootWorkflowId = '${workflowId}'` })) lengths.push(w.historyLength);
  return lengths;
}

describe('iteration at scale (dev server with suggestContinueAsNew lowered to 200 events)', () => {
  it('a with_items of 10,000 items completes with every result in order, and no run exceeds 10,240 events', async () => {
    const wf = compile(
      `
ref: t.big
version: 1.0.0
tasks:
  - name: each
    action: shop.item
    with_items: "{{ range_list }}"
    concurrency: 100
    input: { n: "{{ item }}" }
    on_success: count
  - name: count
    action: core.echo
    input: { message: "{{ task.each.result | length }} / {{ task.each.result | map(attribute='double') | sum }}" }
output_map: { message: "{{ task.count.result.message }}", last: "{{ task.each.result[-1] }}" }
`
        .replace('"{{ range_list }}"', '"{{ parameters.items }}"')
        .replace('tasks:', 'parameters: { items: { type: array } }\ntasks:'),
      ['shop.item'],
    );
    const items = Array.from({ length: 10_000 }, (_, i) => i);
    const mocks = { 'shop.item': { result: { double: '{{ input.n * 2 }}' } } };
    const id = `run:test:big-${randomUUID()}`;
    const s = await h.withWorker(
      async () =>
        resultOf(
          await h.client.workflow.start(TASKFLOW, { taskQueue: h.taskQueue, workflowId: id, args: [{ workflow: wf, parameters: { items }, tenant: 'test' }] }),
        ),
      { mocks },
    );
    expect(s.status).toBe('succeeded');
    expect(s.output).toEqual({ message: `10000 / ${2 * ((9999 * 10000) / 2)}`, last: { double: 19998 } });
    expect(s.tasks[0]).toMatchObject({ name: 'each', items: { total: 10000, succeeded: 10000, failed: 0 }, result: { truncated: true, total: 10000 } });
    const lengths = await historyLengths(id);
    expect(lengths.length).toBeGreaterThanOrEqual(11); // the run and its 10 shards
    expect(Math.max(...lengths)).toBeLessThanOrEqual(10_240);
  }, 240_000);

  it('continue-as-new keeps a long polling loop going with its variables, counts and audit', async () => {
    const wf = compile(
      `
ref: t.poll
version: 1.0.0
vars: { n: 0 }
tasks:
  - name: start
    action: core.noop
    on_success: poll
  - name: poll
    action: shop.status
    input: { n: "{{ vars.n }}" }
    next:
      - when: "{{ vars.n >= 300 }}"
        do: done
      - when: "{{ vars.n < 300 }}"
        publish: [ { n: "{{ vars.n + 1 }}" } ]
        do: poll
  - name: done
    action: core.echo
    input: { message: "polled {{ vars.n }} times" }
output_map: { n: "{{ vars.n }}", last: "{{ task.poll.result }}" }
`,
      ['shop.status'],
    );
    const id = `run:test:poll-${randomUUID()}`;
    const mocks = { 'shop.status': { result: { seen: '{{ input.n }}' } } };
    const s = await h.withWorker(
      async () =>
        resultOf(await h.client.workflow.start(TASKFLOW, { taskQueue: h.taskQueue, workflowId: id, args: [{ workflow: wf, parameters: {}, tenant: 'test' }] })),
      { mocks },
    );
    expect(s.status).toBe('succeeded');
    expect(s.output).toEqual({ n: 300, last: { seen: 300 } });
    expect(s.tasks.map((t) => [t.name, t.runs])).toEqual([
      ['start', 1],
      ['poll', 301],
      ['done', 1],
    ]);
    const lengths = await historyLengths(id);
    expect(lengths.length).toBeGreaterThan(2); // it continued as new, several times
    expect(Math.max(...lengths)).toBeLessThanOrEqual(10_240);
    const audit = await h.store.db.select().from(auditLog).where(eq(auditLog.executionId, id));
    expect(audit.filter((r) => r.kind === 'task.completed' && r.task === 'poll')).toHaveLength(301);
    expect(new Set(audit.map((r) => r.seq)).size).toBe(audit.length);
  }, 240_000);
});
