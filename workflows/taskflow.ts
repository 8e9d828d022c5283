import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  continueAsNew,
} from '@temporalio/workflow';
import type { CoreActivities } from '../activities/types.js';
import { TaskFailure } from './actions.js';
import { SA, callbackSignal, contextQuery, graphQuery, pauseSignal, resumeSignal, stateQuery } from '../contracts/definitions.js';
import { Driver as Engine } from './driver.js';
import { compact, type RunStatus, type RunSummary, type TaskError, type TaskflowInput } from '../contracts/run.js';
import type { TaskRecord } from '../contracts/run.js';
import { runClosure } from './closure/start.js';
import type { ClosureVerdict } from '../contracts/closure.js';
import { FAILURE } from '../contracts/failures.js';

/** Patch id: the runs index is written with the audit rows in one local activity. */
export const INDEX_WITH_AUDIT = 'closeloop.index-with-audit';

const bookkeeping = proxyActivities<CoreActivities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' }, summary: 'audit' });

const compactRecords = (tasks: Record<string, TaskRecord>) =>
  Object.fromEntries(
    Object.entries(tasks).map(([k, r]) => [
      k,
      { ...r, result: compact(r.result), ...(r.results ? { results: compact(r.results), failed_items: compact(r.failed_items) } : {}) },
    ]),
  );

/** The output of a run that failed, when its output_map can be rendered at all (null otherwise). */
function outputDespite(engine: Engine): unknown {
  if (engine.wf.output_map === undefined) return null;
  try {
    return engine.renderOutput();
  } catch (err) {
    if (err instanceof TaskFailure) return null;
    throw err;
  }
}

/** The interpreter: walks a compiled workflow graph durably. */
export async function taskflow(input: TaskflowInput): Promise<RunSummary> {
  const engine = new Engine(input);
  const info = workflowInfo();
  const startedAt = input.resume?.continued?.started_at ?? new Date().toISOString();
  let status: RunStatus = 'running';
  let output: unknown = null;
  let error: TaskError | null = null;
  let closure: ClosureVerdict | null = null;

  const summary = (): RunSummary => ({
    id: info.workflowId,
    workflow: input.workflow.ref,
    version: input.workflow.version,
    status: status === 'running' && engine.paused ? 'paused' : status,
    tenant: input.tenant,
    started_at: startedAt,
    ended_at: status === 'running' ? null : new Date().toISOString(),
    output,
    error,
    tasks: [...engine.summaries.values()].map((t) => ({ ...t, result: compact(t.result) })),
    closure,
  });
  const masked = () => ({ ...input.parameters, ...Object.fromEntries(input.workflow.secretParameters.map((k) => [k, '***'])) });

  setHandler(stateQuery, summary);
  setHandler(contextQuery, () => ({ vars: engine.ctx.vars, parameters: masked(), system: engine.ctx.system }));
  setHandler(graphQuery, () => ({ tasks: Object.fromEntries([...engine.summaries.values()].map((t) => [t.name, t.status])) }));
  engine.inquiries.listen((r, problems) => engine.record('inquiry.rejected', null, { inquiry_id: r?.inquiry_id ?? null, problems }));
  setHandler(callbackSignal, (c) => {
    if (c && typeof c.token === 'string') engine.callbacks.set(c.token, c.result);
  });
  setHandler(pauseSignal, () => {
    engine.paused = true;
    engine.record('var.set', null, { name: 'paused', value: true });
    upsertSearchAttributes([{ key: SA.status, value: 'paused' }]);
  });
  setHandler(resumeSignal, () => {
    engine.paused = false;
    engine.record('var.set', null, { name: 'paused', value: false });
    upsertSearchAttributes([{ key: SA.status, value: 'running' }]);
  });

  const flush = async (final: boolean) => {
    if (input.shard) return engine.drainAudit('run'); // a shard is part of its parent's run, not a run of its own
    const index = {
      execution_id: info.workflowId,
      tenant: input.tenant,
      workflow_ref: input.workflow.ref,
      workflow_version: input.workflow.version,
      status: summary().status,
      started_at: startedAt,
      ended_at: final ? new Date().toISOString() : null,
      summary: final ? summary() : null,
      ...(final ? { context: { vars: engine.ctx.vars, task: compactRecords(engine.ctx.task), parameters: masked() } } : {}),
    };
    // runs before this patch wrote the index with a separate activity (two extra workflow tasks per run)
    if (patched(INDEX_WITH_AUDIT)) return engine.audit.drainWithIndex(index);
    await engine.drainAudit('run');
    await bookkeeping.indexRun(index);
  };

  if (input.resume?.continued)
    engine.record('var.set', null, { name: 'continued_as_new', value: input.resume.from.length ? input.resume.from : engine.conductor.stagedTasks() });
  else {
    engine.record('run.started', null, { workflow: input.workflow.ref, version: input.workflow.version, parameters: masked() });
    await flush(false);
  }
  setCurrentDetails(`running ${input.workflow.ref}@${input.workflow.version}`);
  // cancel_running: running tasks are cancelled on run cancel or unhandled failure; allow_finish lets them end
  const cancelRunning = input.workflow.cancellation_policy === 'cancel_running';
  const tasksScope = new CancellationScope({ cancellable: cancelRunning });
  const idle = () => !engine.busy();
  try {
    void tasksScope.run(async () => engine.startAll(input.resume?.from ?? input.workflow.entry));
    const settled = () => idle() || engine.failure !== null;
    let finished = input.workflow.timeout ? await condition(settled, input.workflow.timeout * 1000) : (await condition(settled), true);
    // joins whose other upstream tasks can no longer fire run now (not while tasks wait for the next run)
    while (finished && idle() && !engine.failure && !engine.deferred.length && engine.settleJoins()) {
      const left = input.workflow.timeout ? Date.parse(startedAt) + input.workflow.timeout * 1000 - Date.now() : undefined;
      finished = left === undefined ? (await condition(settled), true) : left > 0 ? await condition(settled, left) : false;
    }
    if (finished && idle() && engine.deferred.length && !engine.failure) {
      // long cycles: carry the state into a fresh history (same workflow id)
      await engine.drainAudit('continue-as-new');
      await continueAsNew<typeof taskflow>({ ...input, resume: engine.continuation(startedAt) });
    }
    if (!finished || engine.failure) {
      engine.stop();
      if (cancelRunning) tasksScope.cancel();
    }
    if (finished) await condition(idle);
    if (!finished) {
      status = 'timed_out';
      error = { type: FAILURE.timeout, message: `the run exceeded its timeout of ${input.workflow.timeout}s` };
    } else if (engine.failure) {
      status = 'failed';
      error = { ...engine.failure.error, message: `task '${engine.failure.task}': ${engine.failure.error.message}` };
      output = outputDespite(engine); // as Orquesta: a run that failed still renders what its output_map can
    } else if (input.shard) {
      const rec = engine.ctx.task[input.shard.task];
      const offset = input.shard.offset;
      output = {
        results: rec?.results ?? [],
        failed_items: (rec?.failed_items ?? []).map((f) => ({ ...f, index: f.index + offset })),
        attempts: rec?.attempts ?? 0,
      };
      engine.summaries.forEach((t) => (t.result = null)); // the results travel once, in the output
      status = 'succeeded';
    } else {
      output = engine.renderOutput();
      if (input.workflow.output) {
        const problems = await bookkeeping.checkOutput({ schema: input.workflow.output, output });
        if (problems.length)
          throw new TaskFailure({ type: FAILURE.output, message: `output does not match the workflow's output schema: ${problems.join('; ')}` });
      }
      status = 'succeeded';
    }
  } catch (err) {
    if (isCancellation(err)) {
      status = 'cancelled';
      engine.stop();
      setCurrentDetails(cancelRunning ? 'cancelling running tasks' : 'cancelled: letting running tasks finish');
      await CancellationScope.nonCancellable(() => condition(idle));
    } else if (err instanceof TaskFailure) {
      status = 'failed';
      error = err.error;
    } else throw err;
  }
  // closing the loop: the run is done when its outcome is verified (rules apply to runs that ended, not cancelled ones)
  if (input.closure && !input.shard && status !== 'cancelled') closure = await runClosure(engine, input, status, masked(), summary());
  engine.record('run.completed', null, { status, error, ...(closure ? { closure: closure.verdict } : {}) });
  await CancellationScope.nonCancellable(async () => {
    upsertSearchAttributes([{ key: SA.status, value: status }]);
    await flush(true);
  });
  const result = summary();
  if (status === 'cancelled')
    throw ApplicationFailure.create({ type: FAILURE.runCancelled, message: 'the run was cancelled', nonRetryable: true, details: [result] });
  if (status !== 'succeeded')
    throw ApplicationFailure.create({
      type: status === 'timed_out' ? 'RunTimedOut' : 'RunFailed',
      message: error?.message ?? status,
      nonRetryable: true,
      details: [result],
    });
  return result;
}
