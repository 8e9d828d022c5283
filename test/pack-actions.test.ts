import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities } from '../activities/index.js';
import { parseActionDef } from '../dsl/actions.js';
import { pinActions } from '../dsl/nested.js';
import { secretFromEnv, type PluginDef } from '../workers/config.js';
import { compile, createHarness, runWorkflow, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

describe('pack actions', () => {
  it('runner: http renders its request from input and pack.config; runner: plugin posts to the plugin runtime with auth and idempotency key', async () => {
    const api = await startHttpTarget((r) =>
      r.path.startsWith('/deploy/') ? { status: 201, body: { region: r.path.split('/')[2], ok: true } } : { status: 404 },
    );
    const plugin = await startHttpTarget((r) => ({ body: { result: { artifact: `built:${JSON.parse(r.body).input.version}` } } }));
    try {
      const deploy = parseActionDef(
        `ref: ex.deploy\nrunner: http\nmethod: POST\nurl: "{{ pack.config.api }}/deploy/{{ input.region }}"\nbody: { version: "{{ input.version }}" }\nexpected_status: 201\n`,
      ).action!;
      const build = parseActionDef('ref: ex.build\nrunner: plugin\nplugin: ci\noperation: build_and_test\n').action!;
      const wf = compile(
        `
ref: ex.release
version: 1.0.0
tasks:
  - name: build
    action: ex.build
    input: { version: "3.1" }
    on_success: deploy
  - name: deploy
    action: ex.deploy
    with_items: "{{ ['eu', 'us'] }}"
    input: { region: "{{ item }}", version: "{{ task.build.result.artifact }}" }
output_map:
  regions: "{{ task.deploy.result | map(attribute='body.region') }}"
  built: "{{ task.build.result.artifact }}"
`,
        ['ex.build', 'ex.deploy'],
      );
      const pinned = pinActions(
        wf,
        new Map([
          ['ex.deploy', deploy],
          ['ex.build', build],
        ]),
        new Map([['ex', { api: api.url }]]),
      );
      const plugins = new Map<string, PluginDef>([['ci', { id: 'ci', base_url: plugin.url, auth: { type: 'bearer', secret: 'plugins.ci.token' } }]]);
      const taskQueue = `pack-${randomUUID()}`;
      const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
      const worker = await Worker.create({
        connection,
        taskQueue,
        workflowBundle: { codePath: inject('bundlePath') },
        activities: createActivities({
          store: h.store,
          plugins: () => plugins,
          pluginSecret: secretFromEnv({ CLOSELOOP_SECRET_PLUGINS_CI_TOKEN: 's3cret-token' }),
        }),
      });
      const s = await worker.runUntil(runWorkflow({ ...h, taskQueue }, pinned));
      await connection.close();
      expect(s.status).toBe('succeeded');
      expect(s.output).toEqual({ regions: ['eu', 'us'], built: 'built:3.1' });
      const call = JSON.parse(plugin.received[0]!.body);
      expect(plugin.received[0]!.path).toBe('/plugin/runtime/ci/execute');
      expect(plugin.received[0]!.headers.authorization).toBe('Bearer s3cret-token');
      expect(call).toMatchObject({ operation: 'build_and_test', input: { version: '3.1' }, tenant: 'test', idempotency_key: `${s.id}:build:1` });
      expect(api.received.map((r) => `${r.method} ${r.path} ${r.body}`).sort()).toEqual([
        'POST /deploy/eu {"version":"built:3.1"}',
        'POST /deploy/us {"version":"built:3.1"}',
      ]);
      // the secret never reaches the workflow history
      const history = JSON.stringify(await h.client.workflow.getHandle(s.id).fetchHistory());
      expect(history).not.toContain('s3cret-token');
    } finally {
      await api.close();
      await plugin.close();
    }
  });

  it("a plugin's answer is checked: text a run cannot hold and a result outside the action's output schema fail the task, naming why", async () => {
    const plugin = await startHttpTarget((r) => {
      const op = JSON.parse(r.body).operation as string;
      if (op === 'nul') return { body: { result: { note: 'a\u0000b' } } };
      return { body: { result: op === 'good' ? { id: 7 } : { id: 'seven' } } };
    });
    try {
      const def = (op: string) =>
        parseActionDef(
          `ref: ex.${op}\nrunner: plugin\nplugin: ci\noperation: ${op}\noutput: { type: object, required: [id], properties: { id: { type: integer } } }\n`,
        ).action!;
      const wf = compile(
        `ref: ex.answers\nversion: 1.0.0\ntasks:\n  - name: good\n    action: ex.good\n  - name: bad\n    action: ex.bad\n  - name: nul\n    action: ex.nul\n`,
        ['ex.good', 'ex.bad', 'ex.nul'],
      );
      const pinned = pinActions(wf, new Map(['good', 'bad', 'nul'].map((op) => [`ex.${op}`, def(op)])), new Map());
      const plugins = new Map<string, PluginDef>([['ci', { id: 'ci', base_url: plugin.url }]]);
      const s = await h.withWorker(() => runWorkflow(h, pinned), { deps: { plugins: () => plugins } });
      expect(s.status).toBe('failed');
      const task = (name: string) => s.tasks.find((t: { name: string }) => t.name === name)!;
      expect(task('good')).toMatchObject({ status: 'succeeded', result: { id: 7 } });
      expect(task('bad').error).toMatchObject({ type: 'OutputError', message: expect.stringMatching(/output schema.*result\.id/) });
      expect(task('nul').error).toMatchObject({ type: 'PluginAnswerInvalid', message: expect.stringMatching(/result\.note: contains a NUL/) });
    } finally {
      await plugin.close();
    }
  });

  it('refuses invalid action files with line and column', () => {
    const r = parseActionDef('ref: ex.x\nrunner: http\nmethod: POST\n');
    expect(r.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual(["1:1: missing required field 'url'"]);
  });
});
