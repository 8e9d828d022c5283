// One run of the `taskflow` workflow: its queries and signals, its bookkeeping (audit rows and the
// runs index), the walk of its graph through the driver, and the outcome it reports.
import { CancellationScope, condition, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { CoreActivities } from '../activities/types.js';
import { BOOKKEEPING } from '../contracts/activity-options.js';
import { SA, callbackSignal, contextQuery, graphQuery, pauseSignal, resumeSignal, stateQuery } from '../contracts/definitions.js';
import { compact, type RunStatus, type RunSummary, type TaskError, type TaskflowInput, type TaskRecord } from '../contracts/run.js';
import type { ClosureVerdict } from '../contracts/closure.js';
import { FAILURE } from '../contracts/failures.js';
import { TaskFailure } from './actions.js';
import { Driver } from './driver.js';
import { FEATURE } from '../contracts/features.js';
import { uses } from './features.js';

/** Patch id: the runs index is written with the audit rows in one local activity. */
export const INDEX_WITH_AUDIT = FEATURE.indexWithAudit;

const bookkeeping = proxyActivities<CoreActivities>({ ...BOOKKEEPING, summary: 'audit' });

const compactRecords = (tasks: Record<string, TaskRecord>) =>
  Object.fromEntries(
    Object.entries(tasks).map(([k, r]) => [
      k,
      { ...r, result: compact(r.result), ...(r.results ? { results: compact(r.results), failed_items: compact(r.failed_items) } : {}) },
    ]),
  );

export class TaskflowRun {
  readonly engine: Driver;
  readonly info = workflowInfo();
  readonly startedAt: string;
  status: RunStatus = 'running';
  output: unknown = null;
  error: TaskError | null = null;
  closure: ClosureVerdict | null = null;
  /** cancel_running: running tasks are cancelled on run cancel or unhandled failure; allow_finish lets them end. */
  readonly cancelRunning: boolean;
  readonly tasksScope: CancellationScope;

  constructor(readonly input: TaskflowInput) {
    this.engine = new Driver(input);
    this.startedAt = input.resume?.continued?.started_at ?? new Date().toISOString();
    this.listen();
    this.cancelRunning = input.workflow.cancellation_policy === 'cancel_running';
    this.tasksScope = new CancellationScope({ cancellable: this.cancelRunning });
  }

  summary(): RunSummary {
    const { input, engine } = this;
    return {
      id: this.info.workflowId,
      workflow: input.workflow.ref,
      version: input.workflow.version,
      status: this.status === 'running' && engine.paused ? 'paused' : this.status,
      tenant: input.tenant,
      ...(input.strategy ? { strategy: input.strategy } : {}),
      ...(input.resume?.retry_of ? { retry_of: input.resume.retry_of } : {}),
      started_at: this.startedAt,
      ended_at: this.status === 'running' ? null : new Date().toISOString(),
      output: this.output,
      error: this.error,
      tasks: [...engine.summaries.values()].map((t) => ({ ...t, result: compact(t.result) })),
      closure: this.closure,
    };
  }

  masked(): Record<string, unknown> {
    return { ...this.input.parameters, ...Object.fromEntries(this.input.workflow.secretParameters.map((k) => [k, '***'])) };
  }

  private listen(): void {
    const engine = this.engine;
    setHandler(stateQuery, () => this.summary());
    setHandler(contextQuery, () => ({ vars: engine.ctx.vars, parameters: this.masked(), system: engine.ctx.system }));
    setHandler(graphQuery, () => ({ tasks: Object.fromEntries([...engine.summaries.values()].map((t) => [t.name, t.status])) }));
    engine.inquiries.listen((r, problems) => engine.record('inquiry.rejected', null, { inquiry_id: r?.inquiry_id ?? null, problems }));
    setHandler(callbackSignal, (c) => {
      if (c && typeof c.token === 'string') engine.callbacks.set(c.token, c.result);
    });
    const pause = (paused: boolean) => () => {
      engine.paused = paused;
      engine.record('var.set', null, { name: 'paused', value: paused });
      upsertSearchAttributes([{ key: SA.status, value: paused ? 'paused' : 'running' }]);
    };
    setHandler(pauseSignal, pause(true));
    setHandler(resumeSignal, pause(false));
  }

  /** Writes the buffered audit rows and the runs-index row (a shard is part of its parent's run, not a run of its own). */
  async flush(final: boolean): Promise<void> {
    const { input, engine } = this;
    if (input.shard) return engine.drainAudit('run');
    const index = {
      execution_id: this.info.workflowId,
      tenant: input.tenant,
      workflow_ref: input.workflow.ref,
      workflow_version: input.workflow.version,
      status: this.summary().status,
      started_at: this.startedAt,
      ended_at: final ? new Date().toISOString() : null,
      summary: final ? this.summary() : null,
      ...(final ? { context: { vars: engine.ctx.vars, task: compactRecords(engine.ctx.task), parameters: this.masked() } } : {}),
    };
    // runs before this patch wrote the index with a separate activity (two extra workflow tasks per run)
    if (uses(input, INDEX_WITH_AUDIT)) return engine.audit.drainWithIndex(index);
    await engine.drainAudit('run');
    await bookkeeping.indexRun(index);
  }

  private idle = () => !this.engine.busy();

  /**
   * Starts the graph and waits until nothing runs (or the run's timeout): unsatisfiable joins are
   * settled, long cycles continue as new. True when the run ended in time.
   */
  async walk(continueAsNewWith: (resume: NonNullable<TaskflowInput['resume']>) => Promise<never>): Promise<boolean> {
    const { input, engine } = this;
    const timeout = input.workflow.timeout;
    void this.tasksScope.run(async () => engine.startAll(input.resume?.from ?? input.workflow.entry));
    const settled = () => this.idle() || engine.failure !== null;
    let finished = timeout ? await condition(settled, timeout * 1000) : (await condition(settled), true);
    // joins whose other upstream tasks can no longer fire are settled now (not while tasks wait for the next run)
    while (finished && this.idle() && !engine.failure && !engine.deferred.length && engine.settleJoins()) {
      const left = timeout ? Date.parse(this.startedAt) + timeout * 1000 - Date.now() : undefined;
      finished = left === undefined ? (await condition(settled), true) : left > 0 ? await condition(settled, left) : false;
    }
    if (finished && this.idle() && engine.deferred.length && !engine.failure) {
      // long cycles: carry the state into a fresh history (same workflow id)
      await engine.drainAudit('continue-as-new');
      await continueAsNewWith(engine.continuation(this.startedAt));
    }
    if (!finished || engine.failure) {
      engine.stop();
      if (this.cancelRunning) this.tasksScope.cancel();
    }
    if (finished) await condition(this.idle);
    return finished;
  }

  /** The run's status, error and output once the graph is done. */
  async decide(finished: boolean): Promise<void> {
    const { input, engine } = this;
    if (!finished) {
      this.status = 'timed_out';
      this.error = { type: FAILURE.timeout, message: `the run exceeded its timeout of ${input.workflow.timeout}s` };
    } else if (engine.failure) {
      this.status = 'failed';
      const { task, error } = engine.failure;
      // the task is named once: messages that already start with it keep their own wording
      this.error = { ...error, message: error.message.startsWith(`task '${task}'`) ? error.message : `task '${task}': ${error.message}` };
      this.output = this.outputDespite(); // as Orquesta: a run that failed still renders what its output_map can
    } else if (input.shard) {
      const rec = engine.ctx.task[input.shard.task];
      const offset = input.shard.offset;
      const failed = (rec?.failed_items ?? []).map((f) => ({ ...f, index: f.index + offset }));
      this.output = { results: rec?.results ?? [], failed_items: failed, attempts: rec?.attempts ?? 0 };
      engine.summaries.forEach((t) => (t.result = null)); // the results travel once, in the output
      this.status = 'succeeded';
    } else {
      this.output = engine.renderOutput();
      if (input.workflow.output) {
        const problems = await bookkeeping.checkOutput({ schema: input.workflow.output, output: this.output });
        if (problems.length)
          throw new TaskFailure({ type: FAILURE.output, message: `output does not match the workflow's output schema: ${problems.join('; ')}` });
      }
      this.status = 'succeeded';
    }
  }

  /** A cancelled run lets its tasks finish (allow_finish) or cancels them (cancel_running), then ends `cancelled`. */
  async cancelled(): Promise<void> {
    this.status = 'cancelled';
    this.engine.stop();
    setCurrentDetails(this.cancelRunning ? 'cancelling running tasks' : 'cancelled: letting running tasks finish');
    await CancellationScope.nonCancellable(() => condition(this.idle));
  }

  /** The output of a run that failed, when its output_map can be rendered at all (null otherwise). */
  private outputDespite(): unknown {
    if (this.engine.wf.output_map === undefined) return null;
    try {
      return this.engine.renderOutput();
    } catch (err) {
      if (err instanceof TaskFailure) return null;
      throw err;
    }
  }
}
