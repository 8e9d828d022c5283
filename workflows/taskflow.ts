// The `taskflow` workflow (interfaces.md): the interpreter of a compiled workflow graph, durably.
import { ApplicationFailure, CancellationScope, continueAsNew, isCancellation, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { SA } from '../contracts/definitions.js';
import type { RunSummary, TaskflowInput } from '../contracts/run.js';
import { FAILURE } from '../contracts/failures.js';
import { FEATURE } from '../contracts/features.js';
import { TaskFailure } from './actions.js';
import { runClosure } from './closure/start.js';
import { TaskflowRun } from './taskflow-run.js';

export { INDEX_WITH_AUDIT } from './taskflow-run.js';

export async function taskflow(input: TaskflowInput): Promise<RunSummary> {
  const run = new TaskflowRun(input);
  const { engine } = run;
  if (input.resume?.continued)
    engine.record('var.set', null, { name: 'continued_as_new', value: input.resume.from.length ? input.resume.from : engine.conductor.stagedTasks() });
  else {
    engine.record('run.started', null, { workflow: input.workflow.ref, version: input.workflow.version, parameters: run.masked() });
    // the starter wrote the index row: the audit row rides on the first task activity (contracts/features.ts)
    if (!input.features?.includes(FEATURE.indexAtStart)) await run.flush(false);
  }
  setCurrentDetails(`running ${input.workflow.ref}@${input.workflow.version}`);
  try {
    await run.decide(await run.walk((resume) => continueAsNew<typeof taskflow>({ ...input, resume })));
  } catch (err) {
    if (isCancellation(err)) await run.cancelled();
    else if (err instanceof TaskFailure) [run.status, run.error] = ['failed', err.error];
    else throw err;
  }
  // closing the loop: the run is done when its outcome is verified (rules apply to runs that ended, not cancelled ones)
  if (input.closure && !input.shard && run.status !== 'cancelled') run.closure = await runClosure(engine, input, run.status, run.masked(), run.summary());
  engine.record('run.completed', null, { status: run.status, error: run.error, ...(run.closure ? { closure: run.closure.verdict } : {}) });
  await CancellationScope.nonCancellable(async () => {
    upsertSearchAttributes([{ key: SA.status, value: run.status }]);
    await run.flush(true);
  });
  const result = run.summary();
  if (run.status === 'cancelled')
    throw ApplicationFailure.create({ type: FAILURE.runCancelled, message: 'the run was cancelled', nonRetryable: true, details: [result] });
  if (run.status !== 'succeeded')
    throw ApplicationFailure.create({
      type: run.status === 'timed_out' ? FAILURE.runTimedOut : FAILURE.runFailed,
      message: run.error?.message ?? run.status,
      nonRetryable: true,
      details: [result],
    });
  return result;
}
