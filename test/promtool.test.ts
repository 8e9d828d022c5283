// Issue #17: Prometheus' own tool checks the rule files, and unit-tests every alert with series that
// fire and series that do not (deploy/prometheus/closeloop.rules.test.yml).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..', 'deploy', 'prometheus');
const promtool = (...args: string[]) =>
  promisify(execFile)('/usr/bin/promtool', args, { cwd: dir }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );

describe('promtool', () => {
  it('checks the rule files', async () => {
    const r = await promtool('check', 'rules', 'closeloop.rules.yml');
    expect(r.out).toMatch(/SUCCESS: 12 rules found/);
    expect(r.code).toBe(0);
  });

  it('unit-tests every alert: each fires for the tenant over its threshold and not for the one under it', async () => {
    const r = await promtool('test', 'rules', 'closeloop.rules.test.yml');
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.code).toBe(0);
    // every alert of the rule file has a test case
    const alerts = [...readFileSync(join(dir, 'closeloop.rules.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tested = readFileSync(join(dir, 'closeloop.rules.test.yml'), 'utf8');
    for (const a of alerts) expect(tested, a).toContain(`alertname: ${a}`);
    expect(alerts.length).toBe(7);
  });
});
