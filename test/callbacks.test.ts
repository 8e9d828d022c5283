import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { useApi } from './api-helpers.js';
import { parseActionDef } from '../dsl/actions.js';
import { pinActions } from '../dsl/nested.js';
import type { PluginDef, TenantConfig } from '../workers/config.js';
import { compile, runWorkflow, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';

let h: Harness;
let base: string;
const tenants: TenantConfig = { tenants: new Map(), keys: [] };
useApi(tenants, (harness, url) => {
  h = harness;
  base = url;
});

type Behaviour = 'callback' | 'callback-fail' | 'poll-done' | 'silent';

describe('asynchronous plugin actions', () => {
  it('wait for the callback, fall back to polling after callback_timeout, then time out; tokens are single-use', async () => {
    const tokens: string[] = [];
    const delivered: string[] = [];
    const modes = new Map<string, Behaviour>();
    const plugin = await startHttpTarget((r) => {
      if (r.path.startsWith('/plugin/runtime/ops/status/')) {
        const mode = modes.get(decodeURIComponent(r.path.split('/').pop()!));
        return { body: mode === 'poll-done' ? { status: 'succeeded', result: { via: 'poll' } } : { status: 'running' } };
      }
      const call = JSON.parse(r.body) as { input: { mode: Behaviour }; callback_url: string; idempotency_key: string };
      modes.set(call.idempotency_key, call.input.mode);
      tokens.push(call.callback_url.split('/').pop()!);
      if (call.input.mode === 'callback' || call.input.mode === 'callback-fail') {
        const payload =
          call.input.mode === 'callback'
            ? { status: 'succeeded', result: { via: 'callback' } }
            : { status: 'failed', error: { type: 'RenderError', message: 'template missing' } };
        delivered.push(call.callback_url.split('/').pop()!);
        setTimeout(
          () => void fetch(call.callback_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) }),
          300,
        );
      }
      return { status: 202, body: { accepted: true } };
    });
    try {
      // callbacks get a generous wait (a loaded CI machine must not turn them into polls); poll paths a short one
      const patient = parseActionDef('ref: ops.render\nrunner: plugin\nplugin: ops\noperation: render\nmode: async\ncallback_timeout: 60\n').action!;
      const hasty = parseActionDef('ref: ops.render\nrunner: plugin\nplugin: ops\noperation: render\nmode: async\ncallback_timeout: 1\n').action!;
      const plugins = new Map<string, PluginDef>([['ops', { id: 'ops', base_url: plugin.url }]]);
      const wf = (mode: Behaviour) =>
        pinActions(
          compile(`ref: t.async_${mode.replace('-', '_')}\nversion: 1.0.0\ntasks:\n  - name: render\n    action: ops.render\n    input: { mode: ${mode} }\n`, [
            'ops.render',
          ]),
          new Map([['ops.render', mode.startsWith('callback') ? patient : hasty]]),
          new Map(),
        );
      const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
      const taskQueue = `async-${randomUUID()}`;
      const worker = await Worker.create({
        connection,
        taskQueue,
        workflowBundle: { codePath: inject('bundlePath') },
        activities: createActivities({ store: h.store, plugins: () => plugins, publicUrl: base }),
      });
      const hx = { ...h, taskQueue };
      const [byCallback, failed, byPoll, silent] = await worker.runUntil(
        Promise.all([runWorkflow(hx, wf('callback')), runWorkflow(hx, wf('callback-fail')), runWorkflow(hx, wf('poll-done')), runWorkflow(hx, wf('silent'))]),
      );
      await connection.close();
      expect(byCallback.tasks[0]).toMatchObject({ status: 'succeeded', result: { via: 'callback' } });
      expect(failed.tasks[0]).toMatchObject({ status: 'failed', error: { type: 'RenderError', message: 'template missing' } });
      expect(byPoll.tasks[0]).toMatchObject({ status: 'succeeded', result: { via: 'poll' } });
      expect(silent.tasks[0]).toMatchObject({ status: 'timed_out' });
      expect(tokens).toHaveLength(4);
      const post = (token: string) => fetch(`${base}/v1/callbacks/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect((await post(delivered[0]!)).status).toBe(409); // a token is used once
      expect((await post(tokens.find((t) => !delivered.includes(t))!)).status).toBe(410); // its run has ended
      expect((await fetch(`${base}/v1/callbacks/${randomUUID()}`, { method: 'POST' })).status).toBe(404);
    } finally {
      await plugin.close();
    }
  });
});
