import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTestFiles } from '../cli/test-runner.js';
import { installRuntime } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const CONFIG = join(ROOT, 'config');
const packTests = readdirSync(join(CONFIG, 'packs')).flatMap((pack) => {
  const dir = join(CONFIG, 'packs', pack, 'tests');
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
});

describe('closeloop test (time-skipping server)', () => {
  installRuntime();

  it('every config/packs/*/tests/*.yaml case passes', async () => {
    expect(packTests.length).toBeGreaterThan(0);
    const results = await runTestFiles(packTests, { configDir: CONFIG, report: () => {} });
    expect(results.length).toBeGreaterThanOrEqual(7);
    expect(results.filter((r) => r.problems.length).map((r) => `${r.name}: ${r.problems.join('; ')}`)).toEqual([]);
  }, 120_000);

  it('reports wrong expectations as failures, each with its reason', async () => {
    const results = await runTestFiles([join(ROOT, 'test', 'fixtures', 'workflow-tests', 'wrong.yaml')], { configDir: CONFIG, report: () => {} });
    const byName = Object.fromEntries(results.map((r) => [r.name, r.problems]));
    expect(byName['wrong status and output']).toEqual([
      'status: expected failed, got succeeded',
      "ran: task 'require_approval' did not run",
      "not_ran: task 'deploy' ran",
      'output.status: expected "cancelled", got "deployed"',
      'tasks.deploy.runs: expected 2, got 1',
    ]);
    expect(byName.right).toEqual([]);
    expect(byName['bad input is refused']).toEqual(['input refused: invalid parameters: app_name: is required']);
  }, 120_000);
});
