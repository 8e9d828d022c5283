// The ops console in a real browser (Debian's Chromium through playwright-core) against `npm start`'s
// stack: sign-in, approvals, retry with corrected parameters, incidents, reports, and a viewer's view.
import { cp, mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStack, type Stack } from './support/stack.js';
import { startHttpTarget } from './http-target.js';
import { sign } from '../api/intake/signature.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN = 'console-admin-key';
const VIEWER = 'console-viewer-key';
const APPROVER = 'console-approver-key';
// screenshots for the README: CLOSELOOP_SCREENSHOTS=docs/images npx vitest run test/console.test.ts
const SHOTS = process.env.CLOSELOOP_SCREENSHOTS;

let stack: Stack;
let browser: Browser;
let target: Awaited<ReturnType<typeof startHttpTarget>>;
/** Script errors in any page: a rendering bug fails the test that caused it. */
const pageErrors: string[] = [];

async function api(method: string, path: string, body?: unknown, key = ADMIN) {
  const res = await fetch(`${stack.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function until<T>(what: string, get: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const ended = (id: string) =>
  until(`run ${id} to end`, async () => {
    const r = await api('GET', `/v1/executions/${encodeURIComponent(id)}?audit=false`);
    return r.status === 200 && r.body.ended_at ? r.body : null;
  });

const WORKFLOWS = [
  `ref: console.refund_approval
version: 1.0.0
tasks:
  - name: ask
    action: core.inquiry
    input:
      prompt: "Refund order {{ parameters.order }}?"
      assigned_to: finance.approver
      schema:
        type: object
        required: [approved, amount]
        properties:
          approved: { type: boolean, title: Approve the refund }
          amount: { type: number, maximum: 500, title: Amount, description: At most 500 without a second approval }
          reason: { type: string, enum: [damaged, late, other] }
    timeout: 3600
    on_success: pay
  - name: pay
    action: core.echo
    input: { message: "paid {{ task.ask.result.amount }}" }
output_map: { paid: "{{ task.pay.result.message }}" }
parameters: { order: { type: string, required: true } }`,
  `ref: console.notify_partner
version: 1.0.0
parameters: { url: { type: string, required: true } }
tasks:
  - name: call
    action: core.http
    input: { url: "{{ parameters.url }}", method: POST }`,
  `ref: console.delivery
version: 1.0.0
closure: console.delivery
parameters: { url: { type: string, required: true } }
tasks:
  - name: deliver
    action: core.http
    input: { url: "{{ parameters.url }}", method: POST }`,
];

async function startRun(ref: string, parameters: Record<string, unknown>): Promise<string> {
  const r = await api('POST', `/v1/workflows/${ref}/executions`, { parameters });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.execution_id as string;
}

async function signedIn(key: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${stack.base}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Approvals' }).waitFor();
  return page;
}
const shot = async (page: Page, name: string) => {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `console-${name}.png`), fullPage: false });
};

beforeAll(async () => {
  target = await startHttpTarget((r) => (r.path.startsWith('/bad') ? { status: 503, body: { error: 'partner down' } } : { body: { ok: true } }));
  const config = await mkdtemp(join(tmpdir(), 'closeloop-console-config-'));
  await cp(join(import.meta.dirname, '..', 'config'), config, { recursive: true });
  const tenants = await readFile(join(config, 'tenants.yaml'), 'utf8');
  await writeFile(
    join(config, 'tenants.yaml'),
    tenants.replace(
      /(\n\s+api_keys:\n)/,
      `$1      - { id: auditor, key: ${VIEWER}, roles: [viewer] }\n      - { id: ops-admin, key: ${ADMIN}, roles: [admin] }\n      - { id: release-approver, key: ${APPROVER}, roles: [approver] }\n`,
    ),
  );
  const rules = await readFile(join(config, 'agent', 'closure_rules.yaml'), 'utf8');
  await writeFile(
    join(config, 'agent', 'closure_rules.yaml'),
    `${rules}\n  - id: console.delivery\n    description: the partner took the delivery\n    mandatory_nodes: [deliver]\n    severity: { mandatory_nodes: high }\n    deadline: 60\n`,
  );
  if (SHOTS) await mkdir(SHOTS, { recursive: true });
  [stack, browser] = await Promise.all([
    startStack({ env: { CLOSELOOP_CONFIG: config } }),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    }),
  ]);
  for (const yaml of WORKFLOWS) {
    const r = await api('POST', '/v1/workflows', { yaml });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
}, 180_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await target?.close();
});

describe.skipIf(!existsSync(CHROMIUM))('ops console in Chromium', () => {
  it('signs in from the keyboard, keeps the key out of URLs, and signs out', async () => {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${stack.base}/console/`);
    await page.keyboard.press('Tab');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type('not-a-key');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'not known' }).waitFor();
    await page.getByLabel('API key').fill(ADMIN);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    expect(page.url()).not.toContain(ADMIN);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });

  it('answers an inquiry from its page: an invalid answer is shown at its field, a valid one lets the run continue', async () => {
    const run = await startRun('console.refund_approval', { order: 'A-1001' });
    const inquiry = await until('the inquiry', async () =>
      (await api('GET', '/v1/inquiries?status=pending')).body.inquiries.find((i: { execution_id: string }) => i.execution_id === run),
    );
    const page = await signedIn(ADMIN);
    await page.getByRole('link', { name: 'Refund order A-1001?' }).waitFor();
    await shot(page, 'approvals');
    await page.getByRole('link', { name: 'Refund order A-1001?' }).click();
    expect(page.url()).toContain(`#/inquiries/${encodeURIComponent(inquiry.id)}`);
    await page.getByLabel('Approve the refund').check();
    await page.getByLabel('Amount').fill('900');
    await page.getByLabel('reason').selectOption({ label: 'damaged' });
    await page.getByRole('button', { name: 'Send answer' }).click();
    const fieldError = page.locator('#inquiry-amount-error');
    await expect.poll(() => fieldError.textContent()).toContain('must be <= 500');
    expect(await page.getByLabel('Amount').getAttribute('aria-describedby')).toContain('inquiry-amount-error');
    await page.getByLabel('Amount').fill('120');
    await page.getByRole('button', { name: 'Send answer' }).click();
    await page.getByRole('status').filter({ hasText: 'the run continues' }).waitFor();
    const done = await ended(run);
    expect(done).toMatchObject({ status: 'succeeded', output: { paid: 'paid 120' } });
    await page.getByText('Answered by').waitFor();
    await page.close();
  });

  it('retries a failed run with corrected parameters and shows the new run succeed', async () => {
    const run = await startRun('console.notify_partner', { url: `${target.url}/bad` });
    expect((await ended(run)).status).toBe('failed');
    const page = await signedIn(ADMIN);
    await page.goto(`${stack.base}/console/#/runs/${encodeURIComponent(run)}`);
    await page.getByRole('heading', { name: 'Retry' }).waitFor();
    await expect.poll(() => page.getByLabel('Parameters (JSON; only what you change is sent)').inputValue()).toContain('/bad');
    await shot(page, 'run-failed');
    const text = await page.getByLabel('Parameters (JSON; only what you change is sent)').inputValue();
    await page.getByLabel('Parameters (JSON; only what you change is sent)').fill(text.replace('/bad', '/good'));
    await page.getByRole('button', { name: 'Retry run' }).click();
    await expect.poll(() => page.url()).toContain(encodeURIComponent(':retry-'));
    const retried = decodeURIComponent(page.url().split('#/runs/')[1]!);
    expect(await ended(retried)).toMatchObject({ status: 'succeeded', retry_of: run });
    await page.locator('h1 .status', { hasText: 'succeeded' }).waitFor();
    await page.getByText(`Retry of`).waitFor();
    await page.close();
  });

  it('acknowledges an incident, refuses to resolve it without a root cause, then resolves it; reads a delivery report', async () => {
    const failing = await startRun('console.delivery', { url: `${target.url}/bad` });
    const incident = await until(
      'the incident',
      async () =>
        (await api('GET', '/v1/incidents')).body.incidents.find((i: { attribution: { execution_id?: string } }) => i.attribution?.execution_id === failing),
      60_000,
    );
    const page = await signedIn(ADMIN);
    await page.getByRole('link', { name: 'Incidents' }).click();
    await page.getByRole('link', { name: incident.title }).click();
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('h1 .status', { hasText: 'acknowledged' }).waitFor();
    await page.getByRole('button', { name: 'Investigate' }).click();
    await page.locator('h1 .status', { hasText: 'investigating' }).waitFor();
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByRole('alert').filter({ hasText: 'root' }).waitFor();
    await page.getByLabel('Root cause (required to resolve)').fill('the partner endpoint answered 503 during its deploy');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.locator('h1 .status', { hasText: 'resolved' }).waitFor();
    await page.getByText('the partner endpoint answered 503 during its deploy').first().waitFor();
    await shot(page, 'incident');
    expect((await api('GET', `/v1/incidents/${encodeURIComponent(incident.id)}`)).body).toMatchObject({ status: 'resolved' });

    const good = await startRun('console.delivery', { url: `${target.url}/good` });
    await until('the report', async () => (await api('GET', `/v1/reports/${encodeURIComponent(good)}`)).status === 200, 60_000);
    await page.goto(`${stack.base}/console/#/runs/${encodeURIComponent(good)}`);
    await page.getByRole('link', { name: 'Delivery report' }).click();
    await page.getByRole('heading', { name: /Delivery report/ }).waitFor();
    await page.locator('h1 .status', { hasText: 'closed' }).waitFor();
    await page.getByRole('cell', { name: 'mandatory_nodes' }).first().waitFor();
    await shot(page, 'report');
    await page.close();
  });

  it('drafts a strategy, which only someone else approves and activates; the event it takes shows its decision', async () => {
    const page = await signedIn(ADMIN);
    await page.getByRole('link', { name: 'Strategies' }).click();
    const yaml = `id: console.partner_calls\non: partner.call.requested\ntenants: [default]\nwhen: ["{{ event.payload.url }}"]\npriority: 5\nworkflow: console.notify_partner@1.0.0\nparameters: { url: "{{ event.payload.url }}" }\n`;
    await page.getByLabel('New strategy version (YAML)').fill(yaml);
    await page.getByRole('button', { name: 'Save as draft' }).click();
    await page.getByRole('status').filter({ hasText: 'is a draft' }).waitFor();
    await page.getByText('Another person must approve your draft.').waitFor();
    expect(await page.getByRole('button', { name: 'Approve v1' }).count()).toBe(0);
    await page.close();

    const approver = await signedIn(APPROVER);
    await approver.getByRole('link', { name: 'Strategies' }).click();
    await approver.getByRole('button', { name: 'Approve v1' }).click();
    await approver.getByRole('button', { name: 'Activate v1' }).click();
    await approver.locator('tr', { hasText: 'console.notify_partner@1.0.0' }).locator('.status', { hasText: 'active' }).waitFor();
    expect(await approver.getByLabel('New strategy version (YAML)').count()).toBe(0); // an approver drafts nothing

    // an event it takes, and one nobody takes (manual review)
    for (const [type, payload] of [
      ['partner.call.requested', { url: `${target.url}/good` }],
      ['partner.unknown', {}],
    ] as const) {
      const body = JSON.stringify({ id: `evt-${type}`, type, tenant: 'default', idempotency_key: `console-${type}`, payload });
      const res = await fetch(`${stack.base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-closeloop-signature': sign('dev-signing-secret', body) },
        body,
      });
      expect(res.status).toBe(202);
    }
    await approver.getByRole('link', { name: 'Events' }).click();
    await approver.getByText('won by console.partner_calls@1').waitFor();
    await approver.getByText('unmatched').first().waitFor();
    expect(await approver.getByRole('button', { name: 'Dismiss' }).count()).toBe(0); // settling reviews is an operator's
    await approver.close();
    const ops = await signedIn(ADMIN);
    await ops.getByRole('link', { name: 'Events' }).click();
    await ops.getByRole('button', { name: 'Dismiss' }).first().click();
    await expect.poll(async () => (await api('GET', '/v1/reviews?status=dismissed')).body.reviews.length).toBeGreaterThan(0);
    await shot(ops, 'events');
    await ops.close();
  });

  it('a viewer sees no action buttons, and the API refuses the action anyway', async () => {
    const run = await startRun('console.notify_partner', { url: `${target.url}/bad` });
    await ended(run);
    await startRun('console.refund_approval', { order: 'V-7' });
    const page = await signedIn(VIEWER);
    await page.getByRole('link', { name: 'Refund order V-7?' }).waitFor();
    expect(await page.getByRole('button', { name: 'Send answer' }).count()).toBe(0);
    await page.goto(`${stack.base}/console/#/runs/${encodeURIComponent(run)}`);
    await page.getByRole('heading', { name: 'Graph' }).waitFor();
    for (const name of ['Retry run', 'Pause', 'Cancel run']) expect(await page.getByRole('button', { name }).count()).toBe(0);
    await page.getByRole('link', { name: 'Incidents' }).click();
    await page.getByRole('heading', { name: 'Incidents' }).waitFor();
    // the incident an earlier test resolved is on the board; a viewer gets no actions on it
    await page.locator('.board a').first().click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    expect(
      await page
        .getByRole('button')
        .filter({ hasText: /Acknowledge|Investigate|Resolve|Add note/ })
        .count(),
    ).toBe(0);
    const refused = await api('POST', `/v1/executions/${encodeURIComponent(run)}/retry`, {}, VIEWER);
    expect(refused.status).toBe(403);
    await page.close();
  });
});
