import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'closeloop.js');
const fixture = (f: string) => join('test', 'fixtures', f);

async function closeloop(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 90_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('closeloop CLI', () => {
  it('validate: exit 0 on a good file, 1 with file:line:col lines on a broken one', async () => {
    const good = await closeloop(['validate', 'config/packs/examples/workflows/order_fulfilment.yaml']);
    expect(good).toMatchObject({ code: 0, stdout: '' });
    const bad = await closeloop(['validate', fixture('broken.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout.trim().split('\n')).toEqual([
      'test/fixtures/broken.yaml:6:36: tasks[0].input.message: template error: unexpected end of expression',
      "test/fixtures/broken.yaml:7:17: tasks[0]: task 'a' transitions to unknown task 'nowhere'",
      "test/fixtures/broken.yaml:8:11: tasks[1].name: duplicate task name 'a' (first defined at line 4)",
      "test/fixtures/broken.yaml:9:13: tasks[1].action: unknown action 'foo.bar' (not a built-in, a pack action or a registered workflow; mock it with --mock or pass --allow-unknown-actions)",
      "test/fixtures/broken.yaml:10:5: tasks[2]: task 'lonely' can never be reached",
    ]);
    const mocked = await closeloop(['validate', fixture('ship.yaml'), '--mock', fixture('ship-mocks.yaml')]);
    expect(mocked.code).toBe(0);
    const unknown = await closeloop(['validate', fixture('ship.yaml')]);
    expect(unknown.code).toBe(1);
    const allowed = await closeloop(['validate', fixture('ship.yaml'), '--allow-unknown-actions']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/warning: tasks\[0\]\.action: unknown action 'shop.ship'/);
    expect((await closeloop(['validate', 'no/such/file.yaml'])).stderr).toMatch(/cannot read: ENOENT/);
  });

  it('replay: committed histories pass, an altered one fails with exit 1', async () => {
    const ok = await closeloop(['replay', 'test/histories/inquiry.json', '--workflow-id', 'run:replay:inquiry']);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain('1 passed, 0 failed');
    const history = JSON.parse(readFileSync(join(ROOT, 'test', 'histories', 'sequential.json'), 'utf8'));
    const timer = history.events.find((e: any) => e.timerStartedEventAttributes);
    history.events = history.events.filter((e: any) => e !== timer && !e.timerFiredEventAttributes);
    const altered = join(mkdtempSync(join(tmpdir(), 'replay-')), 'altered.json');
    writeFileSync(altered, JSON.stringify(history));
    const bad = await closeloop(['replay', altered, '--workflow-id', 'run:replay:sequential']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ .*altered\.json: /);
  });

  it('graph: mermaid, dot and json', async () => {
    const mermaid = await closeloop(['graph', 'config/packs/examples/workflows/order_fulfilment.yaml']);
    expect(mermaid.stdout).toContain('flowchart TD');
    expect(mermaid.stdout).toContain('validate_order -->|"parameters.confirm_url != \'\'"| confirm');
    const dot = await closeloop(['graph', 'config/packs/examples/workflows/order_fulfilment.yaml', '--format', 'dot']);
    expect(dot.stdout).toContain('"confirm" -> "reject" [label="failed()"];');
    const json = await closeloop(['graph', 'config/packs/examples/workflows/order_fulfilment.yaml', '--format', 'json']);
    expect(JSON.parse(json.stdout).entry).toEqual(['validate_order']);
  });

  it('run --mock --wait --json prints the run summary; the exit code follows the status', async () => {
    const env = { TEMPORAL_ADDRESS: inject('temporalAddress') };
    const ok = await closeloop(
      ['run', fixture('ship.yaml'), '--mock', fixture('ship-mocks.yaml'), '--input', '{"skus":["a","b","c"]}', '--wait', '--json'],
      env,
    );
    expect(ok.code).toBe(0);
    const summary = JSON.parse(ok.stdout);
    expect(summary).toMatchObject({
      workflow: 'demo.ship',
      status: 'succeeded',
      tenant: 'default',
      output: { tracking: [{ tracking: 'T-a' }, null, { tracking: 'T-c' }], failed: ['b'] },
    });
    expect(summary.tasks[0]).toMatchObject({ name: 'ship', items: { total: 3, succeeded: 2, failed: 1 } });
    const failing = await closeloop(
      ['run', fixture('ship.yaml'), '--mock', fixture('ship-mocks.yaml'), '--input', '{"skus":["b","b"]}', '--wait', '--json'],
      env,
    );
    expect(failing.code).toBe(1);
    expect(JSON.parse(failing.stdout)).toMatchObject({ status: 'failed', error: { type: 'ItemsFailed' } });
    // the finished run replays on the current interpreter, fetched from the server by its id
    const replayed = await closeloop(['replay', summary.id], env);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain(`✓ ${summary.id}: replays`);
    const badInput = await closeloop(['run', fixture('ship.yaml'), '--mock', fixture('ship-mocks.yaml'), '--input', '{"skus":"nope"}', '--wait'], env);
    expect(badInput.code).toBe(1);
    expect(badInput.stderr).toMatch(/skus: must be array/);
  }, 120_000);

  it('strategy test explains the match from config/ and starts nothing; exit 1 on a miss', async () => {
    const hit = await closeloop(['strategy', 'test', 'config/agent/examples/order-paid.json']);
    expect(hit.code).toBe(0);
    expect(hit.stdout.trim().split('\n')).toEqual([
      "event evt_order_A-1001_paid (shop.order.paid) for tenant 'default', strategies from config",
      'candidates (1, in precedence order):',
      '  → examples.fulfil_paid_orders@1  priority 10, weight 50',
      'winner: examples.fulfil_paid_orders@1 → workflow examples.order_fulfilment@1.0.0',
      'parameters: {"order_id":"A-1001","items":["widget","gadget"]}',
      'nothing was started',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'closeloop-evt-'));
    const free = join(dir, 'free.json');
    writeFileSync(free, JSON.stringify({ id: 'e1', type: 'shop.order.paid', tenant: 'default', payload: { order_id: 'A', amount: 0 } }));
    const miss = await closeloop(['strategy', 'test', free, '--json']);
    expect(miss.code).toBe(1);
    expect(JSON.parse(miss.stdout).candidates[0].failed).toEqual([{ condition: '{{ event.payload.amount > 0 }}', reason: 'false' }]);
    writeFileSync(free, '{"id": 1}');
    const bad = await closeloop(['strategy', 'test', free]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid event envelope/);
  });

  it('events replay re-submits a saved or stored event through intake, signed', async () => {
    const { createHarness } = await import('./helpers.js');
    const { startApi } = await import('./api-helpers.js');
    const { loadTenants } = await import('../workers/config.js');
    const h = await createHarness();
    const api = await startApi(h, await loadTenants(join(ROOT, 'config'), {}));
    try {
      const dir = mkdtempSync(join(tmpdir(), 'closeloop-evt-'));
      const file = join(dir, 'e.json');
      const id = `evt_cli_${Date.now()}`;
      writeFileSync(file, JSON.stringify({ id, type: 'cli.nobody.listens', tenant: 'default', payload: {} }));
      const env = { CLOSELOOP_API_URL: api.base, CLOSELOOP_DEV_SIGNING_SECRET: '', CLOSELOOP_DEV_API_KEY: '' };
      const first = await closeloop(['events', 'replay', file], env);
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('"status":"unmatched"');
      const again = await closeloop(['events', 'replay', id], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('"status":"duplicate"');
      const missing = await closeloop(['events', 'replay', 'evt_nope'], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/HTTP 404/);
    } finally {
      api.close();
      await h.close();
    }
  });
});
