// The supervised worker's preload turns the SDK's per-promise stack capture off in workflow threads
// (docs/decisions.md "Workflow stack traces"), and CLOSELOOP_WORKFLOW_STACKS=1 keeps it.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { WORKER_EXEC_ARGV } from '../../workers/supervisor.js';

// what a workflow thread sees: the SDK's global handlers, before the SDK would install them
const thread = `
const { Worker } = require('node:worker_threads');
const w = new Worker("const { globalHandlers } = require(require.resolve('@temporalio/worker/lib/workflow/vm-shared.js', { paths: [process.cwd()] })); require('node:worker_threads').parentPort.postMessage(globalHandlers.installed)", { eval: true });
w.on('message', (m) => { console.log(String(m)); process.exit(0); });
`;
const run = (env: NodeJS.ProcessEnv) =>
  execFileSync(process.execPath, [...WORKER_EXEC_ARGV.slice(0, 2), '-e', thread], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();

describe('workflow thread preload', () => {
  it('marks the stack-trace hooks as installed in workflow threads, so the SDK leaves them out', () => {
    expect(run({ CLOSELOOP_WORKFLOW_STACKS: '' })).toBe('true');
  });
  it('keeps them with CLOSELOOP_WORKFLOW_STACKS=1', () => {
    expect(run({ CLOSELOOP_WORKFLOW_STACKS: '1' })).toBe('false');
  });
});
