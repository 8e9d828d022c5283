// Issue #17: a real Prometheus scrapes `npm start`'s stack while it runs closed, remediated and
// failed closures, an incident and matched and unmatched events; then every dashboard panel's query
// and every recording rule must return data through Prometheus' HTTP API, and docs/metrics.md must
// list exactly the metrics the stack exports.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../api/intake/signature.js';
import { freePort, startStack, type Stack } from './support/stack.js';

const ROOT = join(import.meta.dirname, '..');
const KEY = { authorization: 'Bearer dev-admin-key' };
const run = randomUUID().slice(0, 6);
let stack: Stack;
let demo: ChildProcess;
let prometheus: ChildProcess;
let prom = '';

const FAILING = `ref: m${run}.fails\nversion: 1.0.0\ntasks:\n  - name: boom\n    action: core.fail\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.base}${path}`, {
    method,
    headers: { ...KEY, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}
async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
const event = (type: string, payload: object) => {
  const raw = JSON.stringify({ id: `evt_${randomUUID()}`, type, tenant: 'default', payload });
  return fetch(`${stack.base}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-closeloop-signature': sign('dev-signing-secret', raw) },
    body: raw,
  });
};

/** One round of business: a closed, a remediated and a failed closure (with its incident acknowledged), events matched and not. */
async function round(n: number) {
  const invoice = (id: string) =>
    api('POST', '/v1/workflows/billing.close_invoice/executions', { parameters: { invoice_id: id, amount: 120.5 }, idempotency_key: `invoice-${id}` });
  const ids = [`P${run}-${n}`, `P${run}-${n}-BOUNCE`, `P${run}-${n}-SHORT`];
  for (const id of ids) expect((await invoice(id)).status).toBe(202);
  expect((await event('shop.order.paid', { order_id: `O${run}-${n}`, amount: 10 })).status).toBe(202);
  expect((await event('nobody.listens', { n })).status).toBe(202);
  // a task that fails (agent_node_failure, a failed run)
  if (n === 1) expect((await api('POST', '/v1/workflows', { yaml: FAILING })).status).toBe(201);
  expect((await api('POST', `/v1/workflows/m${run}.fails/executions`, {})).status).toBe(202);
  const short = `run:default:invoice-${ids[2]}`;
  const inquiry = await until('the reconciliation inquiry', async () =>
    ((await api('GET', '/v1/inquiries?status=pending')).body.inquiries as { id: string; execution_id: string }[]).find((q) =>
      q.id.startsWith(`closure:${short}`),
    ),
  );
  expect((await api('POST', `/v1/inquiries/${inquiry.id}/respond`, { response: { accept: false, note: 'short' } })).status).toBe(200);
  for (const id of ids)
    await until(`the verdict of ${id}`, async () => (await api('GET', `/v1/executions/run:default:invoice-${id}`)).body?.closure?.verdict, 90_000);
  const incident = `incident:default:closure:${short}`;
  await until('the incident', async () => (await api('GET', `/v1/incidents/${incident}`)).status === 200);
  expect((await api('POST', `/v1/incidents/${incident}/acknowledge`, {})).status).toBeLessThan(300);
}

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

beforeAll(async () => {
  if (!existsSync('/usr/bin/prometheus')) throw new Error('prometheus is missing: .ci/run installs Debian prometheus');
  stack = await startStack();
  demo = spawn(process.execPath, [join(ROOT, 'scripts', 'demo-billing.mjs')], { env: { ...process.env, PORT: '9200' }, stdio: 'ignore' });
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'closeloop-prom-'));
  const target = new URL(stack.base).host;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: ['${join(ROOT, 'deploy', 'prometheus', 'closeloop.rules.yml')}']\nscrape_configs:\n  - job_name: closeloop\n    static_configs: [{ targets: ['${target}'] }]\n`,
  );
  prometheus = spawn(
    '/usr/bin/prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  prom = `http://127.0.0.1:${port}`;
  await until('Prometheus scraping the stack', async () => (await query('up{job="closeloop"} == 1').catch(() => [])).length > 0, 60_000);
  // twice, a few seconds apart: the first round creates the series, the second makes every rate() move
  await round(1);
  await sleep(3000);
  await round(2);
  await sleep(4000);
}, 400_000);

afterAll(async () => {
  prometheus?.kill();
  demo?.kill();
  await stack?.stop();
});

const dashboards = ['closure', 'automation'].map((name) => ({
  name,
  board: JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'dashboards', `${name}.json`), 'utf8')) as {
    title: string;
    panels: { type: string; title: string; targets?: { expr: string }[] }[];
  },
}));
const asQuery = (expr: string) => expr.replaceAll('$tenant', '.*').replaceAll('$workflow', '.*').replaceAll('$__rate_interval', '5m');

describe('dashboards and rules against a real Prometheus', () => {
  it('every panel query of every dashboard returns a series with a number in it', { timeout: 120_000 }, async () => {
    const empty: string[] = [];
    let checked = 0;
    for (const { board } of dashboards)
      for (const panel of board.panels.filter((p) => p.type !== 'row'))
        for (const t of panel.targets ?? []) {
          checked++;
          const result = await query(asQuery(t.expr));
          if (!result.some((r) => Number.isFinite(Number(r.value[1])))) empty.push(`${board.title} / ${panel.title}: ${t.expr} → ${JSON.stringify(result)}`);
        }
    expect(empty).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('the template variables find the tenant and the workflows', async () => {
    const values = async (metric: string, label: string) =>
      ((await (await fetch(`${prom}/api/v1/label/${label}/values?match[]=${metric}`)).json()) as { data: string[] }).data;
    expect(await values('events_ingested_total', 'tenant')).toContain('default');
    expect(await values('agent_workflow_completed_total', 'workflow')).toEqual(expect.arrayContaining(['billing.close_invoice', 'examples.order_fulfilment']));
  });

  it('every recording rule records a series', { timeout: 90_000 }, async () => {
    const rules = readFileSync(join(ROOT, 'deploy', 'prometheus', 'closeloop.rules.yml'), 'utf8');
    const names = [...rules.matchAll(/- record: (\S+)/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) await until(`recorded ${name}`, async () => (await query(name)).length > 0, 60_000);
  });

  it('docs/metrics.md lists exactly the metrics the stack exports, with their type and labels', async () => {
    const text = await (await fetch(`${stack.base}/metrics`)).text();
    writeFileSync(join(ROOT, 'test', '.tmp', 'prometheus-test-metrics.txt'), text);
    const exported = new Map<string, { type: string; labels: Set<string> }>();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) if (m[1] !== 'target_info') exported.set(m[1]!, { type: m[2]!, labels: new Set() });
    for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)\{([^}]*)\}/gm)) {
      const family = [...exported.keys()].find((f) => m[1] === f || m[1] === `${f}_bucket` || m[1] === `${f}_sum` || m[1] === `${f}_count`);
      for (const l of m[2]!.matchAll(/(\w+)="/g)) if (family && l[1] !== 'le') exported.get(family)!.labels.add(l[1]!);
    }
    const documented = new Map<string, { type: string; labels: string[] }>();
    for (const m of readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8').matchAll(/^\| `([a-z_:]+)` \| (counter|gauge|histogram) \| ([^|]*) \|/gm))
      documented.set(m[1]!, { type: m[2]!, labels: [...m[3]!.matchAll(/`(\w+)`/g)].map((l) => l[1]!) });
    expect([...documented.keys()].sort()).toEqual([...exported.keys()].sort());
    for (const [name, e] of exported) {
      expect(documented.get(name)?.type, name).toBe(e.type);
      expect(documented.get(name)?.labels.sort(), name).toEqual([...e.labels].sort());
    }
    // and every metric a dashboard or rule reads is one of them
    const used = [...dashboards.map((d) => JSON.stringify(d.board)), readFileSync(join(ROOT, 'deploy', 'prometheus', 'closeloop.rules.yml'), 'utf8')]
      .join('\n')
      .matchAll(/\b([a-z_]+?)(?:_bucket)?\{/g);
    for (const [, name] of used) expect([...documented.keys()], `${name} is read but not documented`).toContain(name);
  });
});
