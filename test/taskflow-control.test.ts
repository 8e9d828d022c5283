import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pauseSignal, resumeSignal, stateQuery, TASKFLOW } from '../contracts/definitions.js';
import { compile, createHarness, resultOf, runWorkflow, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

describe('taskflow: timeouts, retries, outputs, limits and control', () => {
  it('a timed-out task fires on_timeout; without on_timeout a timeout counts as a failure', async () => {
    const withHandler = compile(`
ref: t.timeout
version: 1.0.0
tasks:
  - name: slow
    action: core.sleep
    input: { seconds: 30 }
    timeout: 1
    on_timeout: notify
    on_failure: never
  - name: notify
    action: core.noop
  - name: never
    action: core.noop
`);
    const asFailure = compile(`
ref: t.timeout2
version: 1.0.0
tasks:
  - name: slow
    action: core.sleep
    input: { seconds: 30 }
    timeout: 1
    on_failure: handled
  - name: handled
    action: core.noop
`);
    const [a, b] = await h.withWorker(() => Promise.all([runWorkflow(h, withHandler), runWorkflow(h, asFailure)]));
    expect(a.status).toBe('succeeded');
    expect(a.tasks.map((t) => `${t.name}:${t.status}`)).toEqual(['slow:timed_out', 'notify:succeeded']);
    expect(b.tasks.map((t) => `${t.name}:${t.status}`)).toEqual(['slow:timed_out', 'handled:succeeded']);
  });

  it('retries only while on_error holds, with error in scope; every attempt is counted', async () => {
    const wf = compile(
      `
ref: t.retry
version: 1.0.0
tasks:
  - name: flaky
    action: shop.flaky
    retry: { count: 5, delay: 0, on_error: "{{ error.type == 'Transient' }}" }
    on_failure: handled
  - name: handled
    action: core.noop
`,
      ['shop.flaky'],
    );
    const mocks = {
      'shop.flaky': [{ when: '{{ attempt < 3 }}', fail: { message: 'try again', type: 'Transient' } }, { fail: { message: 'permanent', type: 'Fatal' } }],
    };
    const s = await h.withWorker(() => runWorkflow(h, wf), { mocks });
    expect(s.tasks[0]).toMatchObject({ name: 'flaky', status: 'failed', attempts: 3, error: { type: 'Fatal', message: 'permanent' } });
  });

  it('fails the run when output_map does not match the output schema, naming the field', async () => {
    const wf = compile(`
ref: t.output
version: 1.0.0
output: { type: object, properties: { count: { type: integer } }, required: [count] }
tasks:
  - name: a
    action: core.noop
output_map: { count: "not a number" }
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('failed');
    expect(s.error).toEqual({ type: 'OutputError', message: "output does not match the workflow's output schema: output.count: must be integer" });
  });

  it('a template error at run time fails the task with the task, field and position', async () => {
    const wf = compile(`
ref: t.tmpl
version: 1.0.0
tasks:
  - name: a
    action: core.echo
    input: { message: "{{ parameters.missing.deeper }}" }
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('failed');
    expect(s.tasks[0]?.error).toEqual({
      type: 'TemplateError',
      message: `task 'a', field 'input': 1:23: cannot read 'deeper' of undefined 'parameters.missing' (in "{{ parameters.missing.deeper }}")`,
    });
  });

  it('bounds cycles by limits.max_task_runs', async () => {
    const wf = compile(`
ref: t.cycle
version: 1.0.0
limits: { max_task_runs: 5 }
vars: { n: 0 }
tasks:
  - name: start
    action: core.noop
    on_success: loop
  - name: loop
    action: core.noop
    next:
      - publish: [ { n: "{{ vars.n + 1 }}" } ]
        do: loop
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('failed');
    expect(s.error?.type).toBe('LimitError');
    expect(s.tasks.find((t) => t.name === 'loop')?.runs).toBe(6);
  });

  it('runs a parallel block (wait-all) and a join: all barrier once', async () => {
    const wf = compile(`
ref: t.parallel
version: 1.0.0
tasks:
  - name: fan
    type: parallel
    tasks:
      - name: left
        action: core.sleep
        input: { seconds: 1 }
      - name: right
        action: core.echo
        input: { message: r }
    on_success: [x, y]
  - name: x
    action: core.noop
    on_success: joined
  - name: y
    action: core.noop
    on_success: joined
  - name: joined
    action: core.echo
    join: all
    input: { message: "{{ task.fan.result.right.message }}" }
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('succeeded');
    const joined = s.tasks.find((t) => t.name === 'joined');
    expect(joined).toMatchObject({ runs: 1, result: { message: 'r' } });
    const order = s.tasks.map((t) => t.name);
    expect(order.indexOf('fan')).toBeLessThan(order.indexOf('x'));
  });

  it('a join that can no longer be satisfied fails the run with UnreachableJoin, naming the join and the missing branch', async () => {
    const wf = compile(`
ref: t.join_unreachable
version: 1.0.0
tasks:
  - name: a
    action: core.echo
    input: { message: a }
    on_success: [joined, counted]
  - name: b
    action: core.echo
    input: { message: b }
    next:
      - when: "{{ false }}"
        do: [joined, counted]
      - do: slow
  - name: slow
    action: core.sleep
    input: { seconds: 1 }
  - name: joined
    action: core.noop
    join: all
  - name: counted
    action: core.noop
    join: 2
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('failed');
    expect(s.error).toMatchObject({ type: 'UnreachableJoin' });
    expect(s.error!.message).toBe(
      "task 'joined': join 'joined' can never run: it waits for all of 'a', 'b'; 'a' arrived, 'b' ended without a transition into it",
    );
    // it is decided only once nothing could fire into it any more: the slow branch finished first
    expect(s.tasks.find((t) => t.name === 'slow')).toMatchObject({ status: 'succeeded' });
    expect(s.tasks.map((t) => t.name)).not.toContain('joined');
    expect(s.tasks.map((t) => t.name)).not.toContain('counted');
  });

  it('an unreachable join inside a parallel block fails the block, and so the run', async () => {
    const wf = compile(`
ref: t.join_unreachable_block
version: 1.0.0
tasks:
  - name: block
    type: parallel
    tasks:
      - name: p1
        action: core.noop
        on_success: inner
      - name: p2
        action: core.noop
        next:
          - when: "{{ false }}"
            do: inner
      - name: inner
        action: core.echo
        join: all
        input: { message: never }
`);
    const s = await h.withWorker(() => runWorkflow(h, wf));
    expect(s.status).toBe('failed');
    expect(s.tasks.find((t) => t.name === 'block')).toMatchObject({ status: 'failed', error: { type: 'UnreachableJoin' } });
    expect(s.error!.message).toMatch(/^task 'block': sub-task 'inner': join 'inner' can never run: .*'p2' ended without a transition into it$/);
  });

  it('pause stops new tasks from starting until resume (signals, as from `temporal workflow signal`)', async () => {
    const wf = compile(`
ref: t.pause
version: 1.0.0
tasks:
  - name: first
    action: core.sleep
    input: { seconds: 1 }
    on_success: second
  - name: second
    action: core.noop
`);
    await h.withWorker(async () => {
      const handle = await h.client.workflow.start(TASKFLOW, {
        taskQueue: h.taskQueue,
        workflowId: `run:test:${randomUUID()}`,
        args: [{ workflow: wf, parameters: {}, tenant: 'test' }],
      });
      while ((await handle.query(stateQuery)).tasks.length === 0) await new Promise((r) => setTimeout(r, 50));
      await handle.signal(pauseSignal);
      await new Promise((r) => setTimeout(r, 2000));
      const paused = await handle.query(stateQuery);
      expect(paused.status).toBe('paused');
      expect(paused.tasks.map((t) => t.name)).toEqual(['first']);
      await handle.signal(resumeSignal);
      const s = await resultOf(handle);
      expect(s.status).toBe('succeeded');
      expect(s.tasks.map((t) => t.name)).toEqual(['first', 'second']);
    });
  });
});
