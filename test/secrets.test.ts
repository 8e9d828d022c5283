import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DefaultLogger } from '@temporalio/worker';
import { startRun } from '../api/start-run.js';
import { KvRepo, secretWriter } from '../store/kv-repo.js';
import { auditLog, kv, runs } from '../store/schema.js';
import { compile, createHarness, installRuntime, resultOf, runWorkflow, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';

// every log line of the worker (all levels) is captured to prove no secret is logged
const logs: string[] = [];
installRuntime(new DefaultLogger('TRACE', (entry) => logs.push(`${entry.message} ${JSON.stringify(entry.meta ?? {})}`)));

const PARAM_SECRET = `S3cr3t-Param-${randomUUID()}`;
const KV_SECRET = `Db-Pa55word-${randomUUID()}`;
const tenant = `sec${randomUUID().slice(0, 8)}`;
let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  const repo = new KvRepo(h.store.db);
  await repo.put(tenant, 'db_password', KV_SECRET, true);
  await repo.put(tenant, 'default_region', 'eu-central', false);
});
afterAll(async () => {
  await h.store.db.delete(kv).where(eq(kv.tenant, tenant));
  await h?.close();
});

describe('secrets and kv', () => {
  it('secret parameters and kv.get_secret reach the outside world but never history, audit, summaries or logs', async () => {
    const target = await startHttpTarget((r) => (r.path.startsWith('/fail') ? { status: 500, body: { error: 'nope' } } : { body: JSON.parse(r.body || '{}') }));
    try {
      const wf = compile(`
ref: t.secrets
version: 1.0.0
parameters:
  api_token: { type: string, secret: true, required: true }
  url: { type: string, required: true }
tasks:
  - name: call
    action: core.http
    input:
      method: POST
      url: "{{ parameters.url }}/call"
      headers: { authorization: "Bearer {{ parameters.api_token }}", x-db: "{{ kv.get_secret('db_password') }}" }
      body: { region: "{{ kv.get('default_region', default='nowhere') }}", missing: "{{ kv.get('nope', default='fallback') }}", echo: "{{ parameters.api_token }}" }
    on_success: leak_in_error
  - name: leak_in_error
    action: core.http
    input: { url: "{{ parameters.url }}/fail?token={{ parameters.api_token }}" }
    on_failure: done
  - name: done
    action: core.noop
    publish: [ { seen: "{{ task.call.result.body }}" }, { error: "{{ task.leak_in_error.error.message }}" } ]
output_map: { seen: "{{ vars.seen }}", error: "{{ vars.error }}" }
`);
      const s = await h.withWorker(async () => {
        const started = await startRun(h.client, {
          workflow: wf,
          parameters: { api_token: PARAM_SECRET, url: target.url },
          tenant,
          taskQueue: h.taskQueue,
          storeSecret: secretWriter(h.store.db),
        });
        return resultOf(h.client.workflow.getHandle(started.execution_id));
      });
      expect(s.status).toBe('succeeded');
      // the real values went out
      const call = target.received.find((r) => r.path === '/call')!;
      expect(call.headers.authorization).toBe(`Bearer ${PARAM_SECRET}`);
      expect(call.headers['x-db']).toBe(KV_SECRET);
      expect(JSON.parse(call.body)).toEqual({ region: 'eu-central', missing: 'fallback', echo: PARAM_SECRET });
      expect(target.received.find((r) => r.path.startsWith('/fail'))!.path).toBe(`/fail?token=${PARAM_SECRET}`);
      // ...and came back scrubbed
      expect(s.output).toEqual({
        seen: { region: 'eu-central', missing: 'fallback', echo: '***' },
        error: expect.stringContaining('/fail?token=*** answered 500'),
      });
      const history = JSON.stringify(await h.client.workflow.getHandle(s.id).fetchHistory());
      const audit = JSON.stringify(await h.store.db.select().from(auditLog).where(eq(auditLog.executionId, s.id)));
      const summary = JSON.stringify(await h.store.db.select().from(runs).where(eq(runs.executionId, s.id)));
      for (const secret of [PARAM_SECRET, KV_SECRET]) {
        expect(history).not.toContain(secret);
        expect(audit).not.toContain(secret);
        expect(summary).not.toContain(secret);
        expect(logs.join('\n')).not.toContain(secret);
      }
      expect(logs.length).toBeGreaterThan(0);
    } finally {
      await target.close();
    }
  });

  it('kv.get refuses a key that holds a secret', async () => {
    const wf = compile(`ref: t.kvsecret\nversion: 1.0.0\ntasks:\n  - name: a\n    action: core.echo\n    input: { message: "{{ kv.get('db_password') }}" }\n`);
    const s = await h.withWorker(() => runWorkflow(h, wf, {}, { tenant }));
    expect(s.status).toBe('failed');
    expect(s.error?.message).toContain('use kv.get_secret()');
    expect(JSON.stringify(s)).not.toContain(KV_SECRET);
  });

  it('a secret full of special characters is masked in every form it comes back in, and is sealed at rest', async () => {
    const SPECIAL = `p"a\\ss w/ord+é&=%${randomUUID().slice(0, 6)}`;
    await new KvRepo(h.store.db).put(tenant, 'special', SPECIAL, true);
    const [row] = await h.store.db.select().from(kv).where(eq(kv.key, 'special'));
    expect(JSON.stringify(row!.value)).not.toContain('ord+');
    expect(row!.value).toMatchObject({ $sealed: 'aes-256-gcm' });
    // a service that echoes what it received, raw and in the encodings services use
    const target = await startHttpTarget((r) => ({
      body: {
        raw: r.body,
        query: r.path,
        basic: Buffer.from(`user:${JSON.parse(r.body).secret}`).toString('base64'),
        url_safe: Buffer.from(`xx${JSON.parse(r.body).secret}`).toString('base64url'),
      },
    }));
    try {
      const wf = compile(`
ref: t.secret_forms
version: 1.0.0
tasks:
  - name: echo
    action: core.http
    input:
      method: POST
      url: "${target.url}/echo?s={{ kv.get_secret('special') | string }}"
      body: { secret: "{{ kv.get_secret('special') }}" }
    publish: [ { echoed: "{{ result().body }}" } ]
output_map: { echoed: "{{ vars.echoed }}" }
`);
      const s = await h.withWorker(() => runWorkflow(h, wf, {}, { tenant }));
      expect(s.status).toBe('succeeded');
      expect(JSON.parse(target.received[0]!.body)).toEqual({ secret: SPECIAL });
      const escaped = JSON.stringify(SPECIAL).slice(1, -1);
      const stored = JSON.stringify(await h.store.db.select().from(runs).where(eq(runs.executionId, s.id)));
      const history = JSON.stringify(await h.client.workflow.getHandle(s.id).fetchHistory());
      for (const text of [JSON.stringify(s), stored, history])
        for (const form of [SPECIAL, escaped, encodeURIComponent(SPECIAL), Buffer.from(SPECIAL).toString('base64').slice(4, -4)])
          expect(text).not.toContain(form);
      const echoed = (s.output as { echoed: Record<string, string> }).echoed;
      expect(echoed.raw).toBe('{"secret":"***"}');
      expect(echoed.query).toBe('/echo?s=***');
      expect(echoed.basic).toContain('***'); // base64 of "user:<secret>": the secret's stretch is masked
      expect(echoed.url_safe).toContain('***');
    } finally {
      await target.close();
    }
  });
});
