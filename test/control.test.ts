import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { singleTenant, useApi } from './api-helpers.js';
import { stateQuery } from '../contracts/definitions.js';
import { compile, resultOf, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';
import { startRun } from '../api/start-run.js';
import type { CompiledWorkflow } from '../dsl/types.js';

let h: Harness;
let base: string;
const tenant = `ctl${randomUUID().slice(0, 8)}`;
const key = `key-${tenant}`;
const tenants = singleTenant(tenant, key, 'op', ['operator']);

async function api(method: string, path: string, json?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null) as Record<string, any> };
}
const start = (wf: CompiledWorkflow, parameters: Record<string, unknown> = {}) =>
  startRun(h.client, { workflow: wf, parameters, tenant, taskQueue: h.taskQueue });
async function untilRunning(id: string, task: string) {
  for (;;) {
    const s = await h.client.workflow
      .getHandle(id)
      .query(stateQuery)
      .catch(() => null);
    if (s?.tasks.some((t) => t.name === task && t.status === 'running')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

useApi(tenants, (harness, url) => {
  h = harness;
  base = url;
});

const sleeper = (policy: string, seconds: number) =>
  compile(`
ref: t.cancel_${policy}
version: 1.0.0
cancellation_policy: ${policy}
tasks:
  - name: slow
    action: core.sleep
    input: { seconds: ${seconds} }
    on_success: after
  - name: after
    action: core.noop
`);

describe('run control', () => {
  it('cancel with allow_finish lets the running task finish and starts nothing new', async () => {
    await h.withWorker(async () => {
      const { execution_id } = await start(sleeper('allow_finish', 2));
      await untilRunning(execution_id, 'slow');
      expect((await api('POST', `/v1/executions/${execution_id}/cancel`)).status).toBe(202);
      const s = await resultOf(h.client.workflow.getHandle(execution_id));
      expect(s.status).toBe('cancelled');
      expect(s.tasks.map((t) => `${t.name}:${t.status}`)).toEqual(['slow:succeeded']);
      expect((await api('POST', `/v1/executions/${execution_id}/cancel`)).status).toBe(409);
    });
  });

  it('cancel with cancel_running cancels the running task at once', async () => {
    await h.withWorker(async () => {
      const { execution_id } = await start(sleeper('cancel_running', 300));
      await untilRunning(execution_id, 'slow');
      const t0 = Date.now();
      await api('POST', `/v1/executions/${execution_id}/cancel`);
      const s = await resultOf(h.client.workflow.getHandle(execution_id));
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(s.tasks.map((t) => `${t.name}:${t.status}`)).toEqual(['slow:cancelled']);
    });
  });

  it('an unhandled failure under cancel_running cancels the other running tasks', async () => {
    const wf = compile(`
ref: t.fail_fast
version: 1.0.0
cancellation_policy: cancel_running
tasks:
  - name: slow
    action: core.sleep
    input: { seconds: 300 }
  - name: boom
    action: core.fail
    input: { message: nope }
`);
    const s = await h.withWorker(async () => resultOf(h.client.workflow.getHandle((await start(wf)).execution_id)));
    expect(s.status).toBe('failed');
    expect(Object.fromEntries(s.tasks.map((t) => [t.name, t.status]))).toEqual({ slow: 'cancelled', boom: 'failed' });
  });

  it('retry re-runs from the failed task on the pinned graph with the earlier variables; views show the run', async () => {
    let healthy = false;
    const target = await startHttpTarget(() => (healthy ? { body: { ok: true } } : { status: 503 }));
    try {
      const wf = compile(`
ref: t.retry_run
version: 1.0.0
parameters: { url: { type: string, required: true } }
vars: { stamp: null }
tasks:
  - name: prepare
    action: core.echo
    input: { message: prepared }
    publish: [ { stamp: "{{ result().message }}" } ]
    on_success: call
  - name: call
    action: core.http
    input: { url: "{{ parameters.url }}", method: POST }
    on_success: finish
  - name: finish
    action: core.echo
    input: { message: "{{ vars.stamp }} and called" }
output_map: { message: "{{ task.finish.result.message }}" }
`);
      await h.withWorker(async () => {
        const first = await start(wf, { url: target.url });
        const failed = await resultOf(h.client.workflow.getHandle(first.execution_id));
        expect(failed.status).toBe('failed');
        expect((await api('POST', `/v1/executions/${first.execution_id}/retry`, { from: ['nope'] })).status).toBe(400);
        healthy = true;
        const retry = await api('POST', `/v1/executions/${first.execution_id}/retry`, {});
        expect(retry.status).toBe(202);
        expect(retry.body.from).toEqual(['call']);
        const s = await resultOf(h.client.workflow.getHandle(retry.body.execution_id));
        expect(s.status).toBe('succeeded');
        expect(s.tasks.map((t) => t.name)).toEqual(['call', 'finish']);
        expect(s.output).toEqual({ message: 'prepared and called' });
        expect((await api('POST', `/v1/executions/${retry.body.execution_id}/retry`, {})).status).toBe(409);

        const tasks = await api('GET', `/v1/executions/${first.execution_id}/tasks`);
        expect(tasks.body.task_runs.map((t: any) => `${t.task}:${t.status}:${t.attempts.length}`)).toEqual(['prepare:succeeded:1', 'call:failed:1']);
        const graph = await api('GET', `/v1/executions/${first.execution_id}/graph?format=mermaid`);
        expect(graph.text).toContain('style call fill:#f7c5c5');
        const context = await api('GET', `/v1/executions/${first.execution_id}/context`);
        expect(context.body).toEqual({ vars: { stamp: 'prepared' }, parameters: { url: target.url } });
        const history = await api('GET', `/v1/executions/${first.execution_id}/history`);
        expect(history.body.events[0].eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
      });
    } finally {
      await target.close();
    }
  });
  it('retry with corrected parameters (validated again) and retry of only the failed items', async () => {
    const broken = new Set(['b', 'd']);
    const target = await startHttpTarget((r) => (broken.has(r.path.slice(1)) ? { status: 503 } : { body: { id: r.path.slice(1) } }));
    try {
      const wf = compile(`
ref: t.retry_items
version: 1.0.0
parameters: { base: { type: string, required: true }, ids: { type: array, items: { type: string } } }
tasks:
  - name: each
    action: core.http
    with_items: "{{ parameters.ids }}"
    input: { url: "{{ parameters.base }}/{{ item }}" }
output_map: { ids: "{{ task.each.results | map(attribute='body') | map(attribute='id') | list }}" }
`);
      await h.withWorker(async () => {
        const first = await start(wf, { base: target.url, ids: ['a', 'b', 'c', 'd'] });
        expect((await resultOf(h.client.workflow.getHandle(first.execution_id))).status).toBe('failed');
        expect(target.received.map((r) => r.path).sort()).toEqual(['/a', '/b', '/c', '/d']);

        const bad = await api('POST', `/v1/executions/${first.execution_id}/retry`, { parameters: { ids: 'not-a-list' } });
        expect(bad.status).toBe(400);
        expect(bad.body.error.details[0].location).toBe('parameters.ids');

        broken.delete('b');
        target.received.length = 0;
        const onlyFailed = await api('POST', `/v1/executions/${first.execution_id}/retry`, { items: 'failed' });
        expect(onlyFailed.status).toBe(202);
        const second = await resultOf(h.client.workflow.getHandle(onlyFailed.body.execution_id));
        // b and d ran again, a and c kept their earlier results; d still fails
        expect(target.received.map((r) => r.path).sort()).toEqual(['/b', '/d']);
        expect(second.status).toBe('failed');
        expect(second.tasks[0]?.items).toEqual({ total: 4, succeeded: 3, failed: 1 });

        target.received.length = 0;
        const corrected = await api('POST', `/v1/executions/${onlyFailed.body.execution_id}/retry`, { parameters: { ids: ['a', 'b', 'c', 'e'] } });
        expect(corrected.status).toBe(202);
        const third = await resultOf(h.client.workflow.getHandle(corrected.body.execution_id));
        expect(third.status).toBe('succeeded');
        expect(third.output).toEqual({ ids: ['a', 'b', 'c', 'e'] });
        expect(target.received).toHaveLength(4);
      });
    } finally {
      await target.close();
    }
  });
});
