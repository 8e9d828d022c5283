import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { singleTenant, useApi } from './api-helpers.js';
import { resultOf, type Harness } from './helpers.js';
import { SA } from '../contracts/definitions.js';

let h: Harness;
let base: string;
const tenant = `nest${randomUUID().slice(0, 8)}`;
const key = `key-${tenant}`;
const tenants = singleTenant(tenant, key, 'admin', ['admin']);

async function api(method: string, path: string, body?: { json?: unknown; yaml?: string }) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    'content-type': body?.yaml !== undefined ? 'application/yaml' : 'application/json',
  };
  const res = await fetch(`${base}${path}`, { method, headers, ...(body ? { body: body.yaml ?? JSON.stringify(body.json) } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const child = (version: string, greeting: string) => `
ref: lib.greet
version: ${version}
parameters:
  name: { type: string, required: true }
  punctuation: { type: string, default: "!" }
tasks:
  - name: check
    action: core.echo
    input: { message: "{{ parameters.name }}" }
    next:
      - when: "{{ parameters.name == 'villain' }}"
        do: refuse
      - when: "{{ parameters.name != 'villain' }}"
        do: say
  - name: refuse
    action: core.fail
    input: { message: "no greeting for {{ parameters.name }}" }
  - name: say
    action: core.echo
    input: { message: "${greeting} {{ parameters.name }}{{ parameters.punctuation }}" }
output_map: { text: "{{ task.say.result.message }}" }
`;

const parent = `
ref: app.welcome
version: 1.0.0
parameters:
  names: { type: array, default: [ada, bob] }
tasks:
  - name: wait
    action: core.sleep
    input: { seconds: 2 }
    on_success: greet_all
  - name: greet_all
    action: lib.greet
    with_items: "{{ parameters.names }}"
    input: { name: "{{ item }}" }
    on_success: done
    on_failure: handled
  - name: done
    action: core.noop
  - name: handled
    action: core.echo
    input: { message: "{{ task.greet_all.failed_items[0].error.message }}" }
output_map:
  texts: "{{ task.greet_all.result | map(attribute='text') if task.greet_all.status == 'succeeded' else [] }}"
`;

useApi(tenants, (harness, url) => {
  h = harness;
  base = url;
});

describe('nested workflows', () => {
  it('runs a registered workflow as a child run, pinned to the version current when the parent started', async () => {
    expect((await api('POST', '/v1/workflows', { yaml: child('1.0.0', 'Hello') })).status).toBe(201);
    expect((await api('POST', '/v1/workflows', { yaml: parent })).status).toBe(201);
    await h.withWorker(async () => {
      const started = await api('POST', '/v1/workflows/app.welcome/executions', { json: {} });
      expect(started.status).toBe(202);
      // a new child version registered while the parent runs does not change this run
      expect((await api('POST', '/v1/workflows', { yaml: child('2.0.0', 'Bye') })).status).toBe(201);
      const s = await resultOf(h.client.workflow.getHandle(started.body.execution_id));
      expect(s.status).toBe('succeeded');
      expect(s.output).toEqual({ texts: ['Hello ada!', 'Hello bob!'] });
      const kid = await h.client.workflow.getHandle(`${started.body.execution_id}/greet_all/1/0`).describe();
      expect(kid.type).toBe('taskflow');
      expect(kid.typedSearchAttributes.get(SA.workflow)).toBe('lib.greet');
    });
  });

  it("a child's failure comes back as the task's failure, handled by the parent", async () => {
    await h.withWorker(async () => {
      const started = await api('POST', '/v1/workflows/app.welcome/executions', { json: { parameters: { names: ['ada', 'villain'] } } });
      const s = await resultOf(h.client.workflow.getHandle(started.body.execution_id));
      expect(s.status).toBe('succeeded');
      const greet = s.tasks.find((t) => t.name === 'greet_all');
      expect(greet).toMatchObject({ status: 'failed', items: { total: 2, succeeded: 1, failed: 1 } });
      expect(s.tasks.find((t) => t.name === 'handled')?.result).toEqual({ message: "nested run lib.greet failed: task 'refuse': no greeting for villain" });
    });
  });

  it('refuses nested cycles before anything starts', async () => {
    const a = 'ref: cyc.a\nversion: 1.0.0\ntasks:\n  - name: x\n    action: core.noop\n';
    const b = 'ref: cyc.b\nversion: 1.0.0\ntasks:\n  - name: y\n    action: cyc.a\n';
    expect((await api('POST', '/v1/workflows', { yaml: a })).status).toBe(201);
    expect((await api('POST', '/v1/workflows', { yaml: b })).status).toBe(201);
    expect((await api('POST', '/v1/workflows', { yaml: a.replace('1.0.0', '1.1.0').replace('core.noop', 'cyc.b') })).status).toBe(201);
    const r = await api('POST', '/v1/workflows/cyc.a/executions', { json: {} });
    expect(r.status).toBe(422);
    expect(r.body.error.message).toBe('nested workflows form a cycle: cyc.a -> cyc.b -> cyc.a');
  });
});
