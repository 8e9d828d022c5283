// Issue #12, items 1 and 2, on `npm start`'s real stack (API process + supervised worker process +
// embedded PGlite reached over IPC): no template takes the service down, and a run whose workflow
// task crashes the worker anyway is quarantined while the API keeps answering.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bundleOptions } from '../workers/worker.js';
import { startStack, type Stack } from './support/stack.js';

const KEY = { Authorization: 'Bearer dev-admin-key' };
const DISTINCT_12K = Array.from({ length: 12_000 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');

async function api(stack: Stack, method: string, path: string, body?: unknown, type = 'application/json') {
  const res = await fetch(`${stack.base}${path}`, {
    method,
    headers: { ...KEY, ...(body !== undefined ? { 'Content-Type': type } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, any> };
}

const oneTask = (ref: string, message: string) =>
  `ref: ${ref}\nversion: 1.0.0\ntasks:\n  - name: boom\n    action: core.echo\n    input: { message: "${message}" }\n`;

async function register(stack: Stack, yaml: string) {
  const r = await api(stack, 'POST', '/v1/workflows', yaml, 'application/yaml');
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

async function runToEnd(stack: Stack, ref: string, key: string, parameters: Record<string, unknown> = {}, timeoutMs = 60_000) {
  const started = await api(stack, 'POST', `/v1/workflows/${ref}/executions`, { parameters, idempotency_key: key });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const id = started.body.execution_id as string;
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 300))) {
    const r = await api(stack, 'GET', `/v1/executions/${id}`);
    if (r.status === 200 && r.body.ended_at) return r.body;
  }
  throw new Error(`${id} did not end within ${timeoutMs} ms:\n${stack.output().slice(-3000)}`);
}

/** Polls /healthz every 250 ms while `fn` runs: every answer must be a 200 within 2 s. */
async function answeringThroughout<T>(stack: Stack, fn: () => Promise<T>): Promise<{ value: T; probes: number }> {
  let done = false;
  let probes = 0;
  const failures: string[] = [];
  const prober = (async () => {
    while (!done) {
      const r = await fetch(`${stack.base}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
        (x) => String(x.status),
        (e: Error) => e.message,
      );
      probes++;
      if (r !== '200') failures.push(r);
      await new Promise((res) => setTimeout(res, 250));
    }
  })();
  try {
    return { value: await fn(), probes };
  } finally {
    done = true;
    await prober;
    expect(failures).toEqual([]);
  }
}

describe('a tenant cannot take the service down (npm start stack)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { CLOSELOOP_WORKFLOW_BUNDLE: inject('bundlePath') } });
  });
  afterAll(async () => void (await stack?.stop()));

  it('a template that does too much work fails its task at once, naming task and field; the API answers throughout and the next run succeeds', async () => {
    await register(stack, oneTask('iso.unique', `{{ ('${DISTINCT_12K}' | list | unique) | length }}`));
    await register(stack, oneTask('iso.sort', "{{ (('x' * 999999) | list | sort | unique) | length }}"));
    const { value, probes } = await answeringThroughout(stack, async () => [
      await runToEnd(stack, 'iso.unique', 'u-1'),
      await runToEnd(stack, 'iso.sort', 's-1'),
    ]);
    const [unique, sort] = value;
    expect(probes).toBeGreaterThan(0);
    // the template of issue #12 that crashed the process: linear now, and well within its budget
    expect(unique!.status).toBe('succeeded');
    expect(unique!.tasks[0].result).toEqual({ message: 12_000 });
    expect(sort!.status).toBe('failed');
    expect(sort!.tasks[0].error.type).toBe('TemplateError');
    expect(sort!.tasks[0].error.message).toMatch(/^task 'boom', field 'input': .*cost budget of 1000000 units/);
    expect(sort!.tasks[0].attempts).toBe(1); // not retried: the same template would fail the same way
    expect((await runToEnd(stack, 'examples.order_fulfilment', 'after-budget', { order_id: 'A-1', items: ['w'] })).status).toBe('succeeded');
  });

  it("limits a file cannot raise, and a self-loop at the operator's limit yields the workflow thread as it goes", async () => {
    const loop = (runs: number) =>
      `ref: iso.loop\nversion: 1.0.0\nlimits: { max_task_runs: ${runs} }\nvars: { n: 0 }\ntasks:\n  - name: start\n    action: core.noop\n    on_success: spin\n  - name: spin\n    action: core.noop\n    next:\n      - when: "{{ vars.n < 999 }}"\n        publish: [ { n: "{{ vars.n + 1 }}" } ]\n        do: spin\n`;
    const refused = await api(stack, 'POST', '/v1/workflows', loop(1_000_000_000), 'application/yaml');
    expect(refused.status).toBe(422);
    expect(refused.body.error.details[0].message).toMatch(/limits\.max_task_runs: 1000000000 is above the operator's limit of 1000/);
    await register(stack, loop(1000));
    const run = await runToEnd(stack, 'iso.loop', 'loop-1');
    expect(run.status).toBe('succeeded');
    expect(run.tasks.find((t: { name: string }) => t.name === 'spin').runs).toBe(1000);
    // 1,000 inline task runs take several pauses (local-activity markers), each ending a slice of work
    const history = await fetch(`${stack.base}/v1/executions/${run.id}/history`, { headers: KEY }).then((r) => r.json());
    const markers = (history.events as { eventType: string }[]).filter((e) => e.eventType === 'EVENT_TYPE_MARKER_RECORDED');
    expect(markers.length).toBeGreaterThanOrEqual(5);
  });

  it('refuses text the database cannot hold, naming the field, and starts nothing', async () => {
    for (const bad of ['A\u0000', 'A\ud800', { nested: ['ok', 'x\udc00y'] }]) {
      const r = await api(stack, 'POST', '/v1/workflows/examples.order_fulfilment/executions', {
        parameters: { order_id: bad, items: ['w'] },
        idempotency_key: 'bad-text',
      });
      expect(r.status).toBe(400);
      expect(r.body.error.details[0].location).toMatch(/^body\.parameters\.order_id/);
    }
    // 10,000 levels: built as text, since JSON.stringify itself overflows the stack on such a value
    const deep = `${'{"d":'.repeat(10_000)}"x"${'}'.repeat(10_000)}`;
    const r = await api(stack, 'POST', '/v1/workflows/examples.order_fulfilment/executions', `{"parameters": {"order_id": ${deep}, "items": []}}`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/nested deeper than 64 levels/);
    expect((await api(stack, 'GET', '/v1/executions/run:default:bad-text')).status).toBe(404);
  });
});

describe('a run that crashes the worker process is quarantined (npm start stack)', () => {
  let stack: Stack;
  let bundle: string;
  beforeAll(async () => {
    // the product's workflows with `unique` as it was before issue #12: its template holds the workflow thread for seconds
    bundle = join(import.meta.dirname, '.tmp', 'crashing-bundle.js');
    await writeFile(bundle, (await bundleWorkflowCode(bundleOptions(join(import.meta.dirname, 'support', 'spin-workflows.ts')))).code);
    // the supervisor stops a worker process whose workflow thread a run holds past 2 s
    stack = await startStack({ env: { CLOSELOOP_WORKFLOW_BUNDLE: bundle, CLOSELOOP_WORKFLOW_TASK_LIMIT: '2' } });
  });
  afterAll(async () => void (await stack?.stop()));

  it('the API answers while the worker crashes and restarts; after three crashes the run is failed as quarantined, and new runs succeed, also after a restart', async () => {
    await register(stack, oneTask('iso.crash', `{{ ('${DISTINCT_12K}' | list | unique) | length }}`));
    const { value: crashed } = await answeringThroughout(stack, () => runToEnd(stack, 'iso.crash', 'crash-1', {}, 150_000));
    expect(stack.output()).toMatch(/run run:default:crash-1 has held a workflow thread for over 2 s/);
    expect(stack.output()).toMatch(/the worker process stopped .*run:default:crash-1/);
    expect(crashed.status).toBe('failed');
    expect(crashed.error).toMatchObject({ type: 'Quarantined' });
    expect(crashed.error.message).toMatch(/crashed the worker process 3 times/);
    const listed = await api(stack, 'GET', '/v1/executions?status=failed');
    expect(listed.body.executions.map((e: { id: string }) => e.id)).toContain('run:default:crash-1');
    expect((await runToEnd(stack, 'examples.order_fulfilment', 'after-crash', { order_id: 'A-2', items: ['w'] })).status).toBe('succeeded');

    const { dataDir, taskQueue } = stack;
    expect(await stack.stop()).toBe(0);
    stack = await startStack({ dataDir, taskQueue, env: { CLOSELOOP_WORKFLOW_BUNDLE: bundle, CLOSELOOP_WORKFLOW_TASK_LIMIT: '2' } });
    expect((await runToEnd(stack, 'examples.order_fulfilment', 'after-restart', { order_id: 'A-3', items: ['w'] })).status).toBe('succeeded');
    expect((await api(stack, 'GET', '/v1/executions/run:default:crash-1')).body.status).toBe('failed');
  });
});
