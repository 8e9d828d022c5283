// The taskflow's driver: carries out what the conductor decides (task runs as activities, timers,
// children and inquiries), feeds it what happened, and keeps the Temporal side of a run: audit rows,
// pause, pacing, continue-as-new.
import { condition, isCancellation, setCurrentDetails, sleep, workflowInfo } from '@temporalio/workflow';
import { truthy } from '../dsl/expr/index.js';
import type { CompiledTask, CompiledWorkflow } from '../dsl/types.js';
import type { TaskflowInput, TaskSummary } from '../contracts/run.js';
import type { RunEntry } from '../contracts/run.js';
import { Conductor, emptyState, type JoinPolicy, type Outcome } from '../conductor/conductor.js';
import { notRunRecords, type RunContext } from '../conductor/scope.js';
import { TaskFailure, asTaskFailure } from './actions.js';
import { AuditBuffer, auditStore } from './audit-buffer.js';
import { InquiryBook } from './inquiries.js';
import { runAttempts } from './attempts.js';
import { runItems } from '../conductor/items.js';
import { readKv } from './kv.js';
import { SHARD_SIZE, runShards } from './shards.js';
import { Pacer } from './pacing.js';
import { FAILURE } from '../contracts/failures.js';
import { FEATURE } from '../contracts/features.js';
import { uses } from './features.js';

export type { Outcome } from '../conductor/conductor.js';
export { AUDIT_RIDES } from './audit-buffer.js';
/** Patch id: a `join: all` whose other upstream tasks can no longer fire runs once its group is idle (runs before Orquesta's rule). */
export const JOINS_SETTLE = FEATURE.joinsSettle;
/** Patch id: a join that can no longer be satisfied fails the run with UnreachableJoin (dsl.md "Joins and routes"). */
export const UNREACHABLE_JOINS = FEATURE.unreachableJoins;

export class Driver {
  readonly wf: CompiledWorkflow;
  readonly ctx: RunContext;
  readonly executionId = workflowInfo().workflowId;
  readonly audit: AuditBuffer;
  readonly conductor: Conductor;
  paused = false;
  readonly inquiries = new InquiryBook();
  /** Callback results by token (the `callback` signal), awaited by asynchronous plugin actions. */
  readonly callbacks = new Map<string, unknown>();
  /** Bounds the inline work of one workflow task (workflows/pacing.ts). */
  readonly pacer: Pacer;
  private readonly kvKeys = new Map<string, string[]>();
  /** with_items tasks whose earlier results a retry of failed items already reused (only their first run reuses them). */
  private readonly itemsReused = new Set<string>();
  /** The first task of an event-started run carries the event's receipt time (event → first task latency). */
  private firstTaskPending = true;

  constructor(readonly input: TaskflowInput) {
    this.wf = input.workflow;
    const continued = input.resume?.continued;
    this.audit = new AuditBuffer(this.executionId, input.tenant, continued?.seq ?? 0, () => this.conductor.busy(), uses(input, FEATURE.auditRides));
    this.pacer = new Pacer(
      () => auditStore('pacing').recordAudit(this.audit.rows.splice(0)),
      () => uses(input, FEATURE.pacing),
    );
    this.paused = continued?.paused ?? false;
    this.ctx = {
      parameters: input.parameters,
      vars: JSON.parse(JSON.stringify(input.resume?.vars ?? this.wf.vars)) as Record<string, unknown>,
      task: JSON.parse(JSON.stringify(input.resume?.task ?? {})) as RunContext['task'],
      system: {
        execution_id: this.executionId,
        workflow_ref: this.wf.ref,
        workflow_version: this.wf.version,
        tenant: input.tenant,
        trace_id: input.traceId ?? null,
        identity: { login: input.startedBy ?? null },
        timestamp: 0,
        attempt: 1,
      },
      event: input.event ?? null,
      pack: { config: input.workflow.pack_config?.[input.workflow.ref.split('.')[0]!] ?? {} },
      kv: new Map(),
      ...(uses(input, FEATURE.notRunTasks) ? { notRun: { placeholders: notRunRecords(Object.keys(this.wf.tasks)) } } : {}),
    };
    const opts = { record: this.record.bind(this), now: () => Date.now(), limits: this.pacer.limits };
    this.conductor = new Conductor(this.wf, this.ctx, opts, continued?.conductor ?? legacyState(continued));
  }

  record(...args: Parameters<AuditBuffer['record']>): void {
    this.audit.record(...args);
  }

  get rides(): boolean {
    return this.audit.rides;
  }
  takeAudit() {
    return this.audit.take();
  }
  returnAudit(...args: Parameters<AuditBuffer['giveBack']>): void {
    this.audit.giveBack(...args);
  }
  drainAudit(task: string): Promise<void> {
    return this.audit.drain(task);
  }
  get summaries() {
    return this.conductor.summaries;
  }

  /** The conductor's failure: the first unhandled one of the run, or the engine command `fail`. */
  get failure() {
    return this.conductor.failure;
  }

  busy(group = 0): boolean {
    return this.conductor.busy(group);
  }

  stop(): void {
    this.conductor.stop();
  }

  /** Stages tasks on route 0 (the entry tasks, or where a retry starts) and starts them. */
  startAll(names: string[]): void {
    this.conductor.stage(names);
    this.dispatch();
  }

  /** Starts what the conductor staged; top-level tasks wait for the next run when Temporal suggests continue-as-new. */
  private dispatch(): void {
    for (const run of this.conductor.takeStarts()) {
      if (run.group === 0 && !this.input.shard && workflowInfo().continueAsNewSuggested) {
        this.conductor.park(run.seq);
        continue;
      }
      void this.runTask(run)
        .catch((err: unknown) =>
          this.conductor.abort(run.seq, isCancellation(err) ? 'cancelled' : { internal: err instanceof Error ? err.message : String(err) }),
        )
        .finally(() => this.conductor.release(run.seq));
    }
  }

  /** Runs held back for the next run of the workflow (continue-as-new). */
  get deferred(): RunEntry[] {
    return this.conductor.parked();
  }

  /**
   * The group is idle and joins still wait for branches that can no longer arrive: since
   * `closeloop.unreachable-joins` the run (or block) fails; runs recorded before settled a
   * `join: all` (or, before that, left it). True when something was started.
   */
  settleJoins(group = 0): boolean {
    if (this.conductor.stopped() || this.conductor.busy(group) || !this.conductor.waitingJoins(group).length) return false;
    let policy: JoinPolicy = 'wait';
    if (uses(this.input, UNREACHABLE_JOINS)) policy = 'fail';
    else if (this.conductor.waitingJoins(group, true).length && uses(this.input, JOINS_SETTLE)) policy = 'settle';
    const started = this.conductor.settle(group, policy);
    if (started) this.dispatch();
    return started;
  }

  /** What a continued run needs to pick up where this one stops. */
  continuation(startedAt: string): NonNullable<TaskflowInput['resume']> {
    return {
      retry_of: this.input.resume?.retry_of ?? '',
      from: [],
      vars: this.ctx.vars,
      task: this.ctx.task,
      continued: { started_at: startedAt, seq: this.audit.lastSeq, paused: this.paused, conductor: this.conductor.serialize() },
    };
  }

  renderField(task: CompiledTask, field: string, value: unknown, extra: Parameters<Conductor['scope']>[0] = {}): unknown {
    return this.conductor.render(task, field, value, extra);
  }

  renderOutput(): unknown {
    return this.conductor.renderOutput(this.wf.output_map);
  }

  private async runTask(run: RunEntry): Promise<void> {
    const task = this.wf.tasks[run.task]!;
    if (this.paused) {
      setCurrentDetails(`paused: '${run.task}' waits for resume`);
      await condition(() => !this.paused);
    }
    const pause = this.pacer.step();
    if (pause) await pause;
    const received =
      this.firstTaskPending && !this.input.resume && !this.input.shard ? (this.input.event as { received_at?: unknown } | undefined)?.received_at : undefined;
    const began = this.conductor.begin(run.seq, typeof received === 'string' ? { event_received_at: received } : {});
    if (!began) return;
    this.firstTaskPending = false;
    const outcome = await this.execute(task, run, began.runNo);
    this.conductor.complete(run.seq, outcome);
    // inline tasks share one audit write; before closeloop.audit-rides anything that took time was written at once
    if (!this.audit.rides && (Date.parse(began.record.started_at) < Date.now() || this.audit.rows.length >= 100)) this.audit.flush(run.task);
    this.dispatch();
    this.conductor.endBatch();
  }

  private async execute(task: CompiledTask, run: RunEntry, runNo: number): Promise<Outcome> {
    try {
      await readKv(this.ctx.kv, this.kvKeys, task, this.input.tenant).catch((err: unknown) => {
        throw asTaskFailure(err);
      });
      if (task.when !== undefined && !truthy(this.renderField(task, 'when', task.when))) return { status: 'skipped', result: null, error: null, attempts: 0 };
      if (task.delay) await sleep(task.delay * 1000, { summary: `${task.name} delay ${task.delay}s` });
      if (task.type === 'parallel') return await this.runBlock(task, run);
      if (task.with_items !== undefined) return await this.runWithItems(task, runNo);
      const r = await runAttempts(this, task, runNo, {}, run.seq);
      return { status: 'succeeded', result: r.result, error: null, attempts: r.attempts };
    } catch (err) {
      if (!(err instanceof TaskFailure)) throw err;
      return { status: err.timedOut ? 'timed_out' : 'failed', result: null, error: err.error, attempts: err.attempts ?? 1 };
    }
  }

  private async runWithItems(task: CompiledTask, runNo: number): Promise<Outcome> {
    const shard = this.input.shard?.task === task.name ? this.input.shard : undefined;
    const items = shard ? shard.items : this.renderField(task, 'with_items', task.with_items);
    if (!Array.isArray(items))
      throw new TaskFailure({
        type: FAILURE.input,
        message: `task '${task.name}', field 'with_items': must render to a list, got ${items === null ? 'null' : typeof items}`,
      });
    if (items.length > this.wf.limits.max_items)
      throw new TaskFailure({
        type: FAILURE.limit,
        message: `task '${task.name}': ${items.length} items exceed limits.max_items (${this.wf.limits.max_items})`,
      });
    // large iterations run in child shards so no single history grows past Temporal's limits
    if (!shard && items.length > SHARD_SIZE) return runShards(this, task, runNo, items, SHARD_SIZE);
    const offset = shard?.offset ?? 0;
    const total = shard?.total ?? items.length;
    const kept = shard ? undefined : this.keptItems(task.name, items.length);
    return runItems(
      task,
      items,
      this.wf.limits.max_parallel,
      (item, index) =>
        kept?.has(index) ? Promise.resolve({ result: kept.get(index), attempts: 0 }) : runAttempts(this, task, runNo, { item, index: offset + index, total }),
      shard ? { tolerateAll: true } : {},
    );
  }

  /** A retry of only the failed items: the earlier results of the items that succeeded, once, when the list has not changed length. */
  private keptItems(task: string, length: number): Map<number, unknown> | undefined {
    const earlier = this.input.resume?.items?.[task];
    if (!earlier || this.itemsReused.has(task) || earlier.results.length !== length) return undefined;
    this.itemsReused.add(task);
    const failed = new Set(earlier.failed);
    return new Map(earlier.results.flatMap((r, i) => (failed.has(i) ? [] : [[i, r] as const])));
  }

  private async runBlock(task: CompiledTask, run: RunEntry): Promise<Outcome> {
    setCurrentDetails(`parallel '${task.name}': waiting for ${(task.subtasks ?? []).join(', ')}`);
    this.conductor.openBlock(run.seq);
    this.dispatch();
    do await condition(() => !this.conductor.busy(run.seq));
    while (!this.conductor.blockFailed(run.seq) && this.settleJoins(run.seq));
    return this.conductor.closeBlock(run.seq);
  }
}

/** A run that continued as new before the conductor carried its own state (summaries and joins by task name). */
function legacyState(continued: NonNullable<TaskflowInput['resume']>['continued']) {
  const s = emptyState();
  if (!continued) return s;
  s.summaries = (continued.summaries ?? []) as TaskSummary[];
  s.joins = Object.entries(continued.joins ?? {}).map(([task, arrived]) => ({ task, route: 0, group: 0, arrived }));
  return s;
}
