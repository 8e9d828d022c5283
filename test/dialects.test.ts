// Workflows in other dialects (dsl.md "Other dialects"): our own Orquesta and Attune files through
// `closeloop validate` and `closeloop test`, an Orquesta file registered and run on the real server,
// and, where this machine has them (../shared/dialects), the published files read unchanged.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { singleTenant, useApi } from './api-helpers.js';
import { resultOf, type Harness } from './helpers.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'closeloop.js');
const FIXTURES = join('test', 'fixtures', 'dialects');
const SHARED = join(ROOT, '..', 'shared', 'dialects');

async function closeloop(args: string[]) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 120_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe('our own Orquesta and Attune workflows through the CLI', () => {
  it('validate with what was understood said as warnings', async () => {
    const r = await closeloop(['validate', join(FIXTURES, 'orquesta-release.yaml'), join(FIXTURES, 'attune-onboarding.yaml')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      "orquesta-release.yaml:1:1: warning: read as a StackStorm Orquesta workflow (tasks as a map, language version 1.0); its ref is 'dialects.orquesta_release'",
    );
    expect(r.out).toContain("attune-onboarding.yaml:1:1: warning: no ref in the file: registered as 'dialects.attune_onboarding'");
    expect(r.out).toContain('attune-onboarding.yaml:5:10: warning: version "1.0" read as \'1.0.0\'');
  });

  it('run every construct as its dialect means it (closeloop test, skipped time)', async () => {
    const r = await closeloop(['test', join(FIXTURES, 'orquesta-release.tests.yaml'), join(FIXTURES, 'attune-onboarding.tests.yaml')]);
    expect(r.out).toMatch(/10 passed, 0 failed\s*$/);
    expect(r.code).toBe(0);
  }, 180_000);
});

const tenant = `dia${randomUUID().slice(0, 8)}`;
const key = `key-${tenant}`;
let h: Harness;
let base: string;
useApi(singleTenant(tenant, key, 'ops', ['admin']), (harness, url) => {
  h = harness;
  base = url;
});
const api = async (method: string, path: string, body?: unknown, type = 'application/json') => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': type },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
};

describe('an Orquesta file on the real server', () => {
  it('is registered with ?ref=, runs with its YAQL, core.ask, st2kv and zip, and its output is what Orquesta gives', async () => {
    const yaml = await readFile(join(ROOT, FIXTURES, 'orquesta-release.yaml'), 'utf8');
    const noRef = await api('POST', '/v1/workflows', yaml, 'application/yaml');
    expect(noRef.status).toBe(422);
    expect(JSON.stringify(noRef.body)).toContain('an Orquesta file has no ref');
    const reg = await api('POST', '/v1/workflows?ref=ops.release', yaml, 'application/yaml');
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect((await api('PUT', '/v1/kv/release.token', { value: 'tok-1' })).status).toBeLessThan(300);
    const started = await api('POST', '/v1/workflows/ops.release/executions', {
      parameters: { release: 'r9', hosts: ['a', 'b'], ports: [1, 2], environment: 'production', smoke_url: `${base}/healthz` },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const id = started.body.execution_id as string;
    const s = await h.withWorker(async () => {
      // core.ask is an inquiry: answered through the API like any other
      let inquiry: { id: string; prompt: string; assigned_to: string; deadline: string } | undefined;
      for (let i = 0; i < 100 && !inquiry; i++) {
        inquiry = (await api('GET', '/v1/inquiries?status=pending')).body.inquiries.find((q: { execution_id: string }) => q.execution_id === id);
        if (!inquiry) await new Promise((r) => setTimeout(r, 100));
      }
      expect(inquiry).toMatchObject({ prompt: 'Release r9 to production?', assigned_to: 'release-managers' });
      expect(new Date(inquiry!.deadline).getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
      expect((await api('POST', `/v1/inquiries/${encodeURIComponent(inquiry!.id)}/respond`, { response: { approved: true } })).status).toBe(200);
      return resultOf(h.client.workflow.getHandle(id));
    });
    expect(s.status).toBe('succeeded');
    expect(s.output).toEqual({ rolled: [{ message: 'a:1' }, { message: 'b:2' }], approved: true, summary: 'r9 on 2 host(s)' });
    expect(s.tasks.find((t) => t.name === 'announce')?.result).toEqual({ message: 'r9 released to #ops (succeeded)' });
    // st2kv('release.token') was read from the tenant's key-value store when `prepare` published it
    expect((await api('GET', `/v1/executions/${encodeURIComponent(id)}/context`)).body.vars).toMatchObject({ token: 'tok-1', stage: 'prepared' });
  }, 60_000);
});

describe.skipIf(!existsSync(SHARED))('the published files, unchanged', () => {
  it("Attune's complete example reports exactly its one real error", async () => {
    const r = await closeloop(['validate', join(SHARED, 'attune', 'docs_examples_complete-workflow.yaml'), '--allow-unknown-actions']);
    expect(r.code).toBe(1);
    expect(r.out.split('\n').filter((l) => / error|: (?!warning)/.test(l) && !l.includes('warning:'))).toEqual([
      expect.stringMatching(/:236:17: tasks\[9\]: task 'deploy_canary' transitions to unknown task 'handle_canary_failure'$/),
    ]);
  });

  it('with handle_canary_failure added, its approved, denied, timeout, canary-failure and deploy-failure paths run as written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'closeloop-attune-'));
    const cases = (await readFile(join(ROOT, FIXTURES, 'attune-complete.cases.yaml'), 'utf8')).replace(
      'WORKFLOW',
      join(SHARED, 'attune', 'complete-workflow.fixed.yaml'),
    );
    await writeFile(join(dir, 'complete.tests.yaml'), cases);
    const r = await closeloop(['test', join(dir, 'complete.tests.yaml')]);
    expect(r.out).toMatch(/5 passed, 0 failed\s*$/);
  }, 180_000);
});
