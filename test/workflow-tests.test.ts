import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTestFiles } from '../cli/test-runner.js';
import { installRuntime } from './helpers.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { startHttpTarget } from './http-target.js';

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

  it('mocks never lie: a mock of a built-in replaces it, and a task-name mock wins over the action mock', async () => {
    const target = await startHttpTarget(() => ({ body: { real: true } }));
    const dir = join(ROOT, 'test', '.tmp', 'mock-tests');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'mocked.workflow.yaml'),
      `ref: mocktest.flow\nversion: 1.0.0\ntasks:\n  - name: ping\n    action: core.noop\n    on_failure: fetch\n  - name: fetch\n    action: http.get\n    input: { url: "${target.url}/real" }\n    on_success: other\n  - name: other\n    action: http.get\n    input: { url: "${target.url}/other" }\n    publish: [ { seen: "{{ result() }}" } ]\noutput_map: { seen: "{{ vars.seen }}" }\n`,
    );
    await writeFile(
      join(dir, 'mocked.test.yaml'),
      [
        'workflow: mocked.workflow.yaml',
        'mocks:',
        "  core.noop: { fail: { message: 'mocked noop failure' } }",
        '  http.get: { result: { by: action } }',
        '  tasks:',
        '    other: { result: { by: task } }',
        'cases:',
        '  - name: built-ins are mocked, tasks by name first',
        '    expect:',
        '      status: succeeded',
        '      ran: [ping, fetch, other]',
        '      tasks: { ping: { status: failed } }',
        '      output: { seen: { by: task } }',
        '',
      ].join('\n'),
    );
    const results = await runTestFiles([join(dir, 'mocked.test.yaml')], { configDir: CONFIG, report: () => {} });
    await target.close();
    expect(results.map((r) => [r.name, r.problems])).toEqual([['built-ins are mocked, tasks by name first', []]]);
    expect(target.received).toEqual([]); // the mocked http.get made no request
  }, 120_000);
});
