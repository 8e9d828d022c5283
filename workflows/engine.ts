import { CancellationScope, condition, isCancellation, patched, proxyLocalActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { MAX_CARRIED_BYTES, MAX_CARRIED_ROWS } from '../dsl/audit-rides.js';
import { ExpressionError, renderDeep, truthy, type Scope } from '../dsl/expr/index.js';
import type { CompiledTask, CompiledWorkflow } from '../dsl/types.js';
import type { AuditRow, CoreActivities, RunIndexRow } from '../activities/types.js';
import { TaskFailure, asTaskFailure } from './actions.js';
import { scopeFor, type RunContext, type TaskRecord } from './scope.js';
import type { TaskError, TaskStatus, TaskSummary, TaskflowInput } from './summary.js';
import { TransitionError, evaluateTransitions } from './transitions.js';
import { runItems } from './items.js';
import { InquiryBook } from './inquiries.js';
import { runAttempts } from './attempts.js';
import { readKv } from './kv.js';
import { SHARD_SIZE, runShards } from './shards.js';
import { Pacer } from './pacing.js';

export interface Outcome {
  status: TaskStatus;
  result: unknown;
  error: TaskError | null;
  attempts: number;
  results?: unknown[];
  failed_items?: TaskRecord['failed_items'];
  items?: TaskSummary['items'];
}

const ROOT = '';
/** Patch id: audit rows ride on the next task activity instead of a local activity per task (docs/decisions.md). */
export const AUDIT_RIDES = 'closeloop.audit-rides';
/** Patch id: a `join: all` whose other upstream tasks can no longer fire runs once its group is idle (dsl.md "Joins"). */
export const JOINS_SETTLE = 'closeloop.joins-settle';
const AUDIT_BATCH = 100;
const MAX_CONTEXT_BYTES = 10 * 1024 * 1024;

// a local activity: the write is recorded as a marker, without an extra workflow task per task run
const auditStore = (task: string) =>
  proxyLocalActivities<CoreActivities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' }, summary: `audit: ${task}` });

/** Walks the compiled graph: schedules tasks, evaluates transitions, tracks handled/unhandled failures. */
export class Engine {
  readonly wf: CompiledWorkflow;
  readonly ctx: RunContext;
  readonly summaries = new Map<string, TaskSummary>();
  readonly audit: AuditRow[] = [];
  paused = false;
  readonly inquiries = new InquiryBook();
  /** Bounds the inline work of one workflow task (workflows/pacing.ts). */
  readonly pacer = new Pacer(() => auditStore('pacing').recordAudit(this.audit.splice(0)));
  /** Callback results by token (the `callback` signal), awaited by asynchronous plugin actions. */
  readonly callbacks = new Map<string, unknown>();
  /** The first unhandled failure of the run (or of the engine command `fail`). */
  failure: { task: string; error: TaskError } | null = null;
  private readonly inflight = new Map<string, number>();
  private readonly kvKeys = new Map<string, string[]>();
  /** Set on cancel, unhandled failure or timeout: nothing new starts. */
  private stopping = false;
  private readonly blockFailures = new Map<string, TaskError>();
  private readonly joinArrivals = new Map<string, Set<string>>();
  readonly executionId = workflowInfo().workflowId;
  private seq: number;
  /** Top-level tasks held back because Temporal suggested continue-as-new; they start in the next run. */
  readonly deferred: string[] = [];

  constructor(readonly input: TaskflowInput) {
    this.wf = input.workflow;
    const continued = input.resume?.continued;
    this.seq = continued?.seq ?? 0;
    this.paused = continued?.paused ?? false;
    for (const t of continued?.summaries ?? []) this.summaries.set(t.name, t);
    for (const [k, v] of Object.entries(continued?.joins ?? {})) this.joinArrivals.set(k, new Set(v));
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
    };
  }

  record(kind: AuditRow['kind'], task: string | null, detail: Record<string, unknown>): void {
    this.audit.push({ execution_id: this.executionId, tenant: this.input.tenant, seq: ++this.seq, kind, task, detail, at: new Date().toISOString() });
    if (this.rides) this.flushSoon();
  }

  /** Runs recorded since `closeloop.audit-rides` hand their rows to the next task activity. */
  readonly rides = patched(AUDIT_RIDES);
  private flushQueued = false;
  /**
   * Writes the buffered rows at the end of this activation, unless a task activity scheduled in it
   * took them. The SDK evaluates a condition once when it is made, then again only after everything
   * else the activation started has run: the condition says "not yet" the first time, "now" the next.
   */
  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    let asked = false;
    const later = () => asked || !(asked = true);
    // in a cancelled scope the condition rejects: the rows then wait for the run's final write
    condition(later).then(
      () => {
        this.flushQueued = false;
        // with nothing running the run is ending, continuing as new or starting its closure: each drains first
        if (this.busy()) this.flushAudit(this.audit[this.audit.length - 1]?.task ?? 'run');
      },
      () => {
        this.flushQueued = false;
      },
    );
  }

  /** The buffered rows for a task activity to carry (none when they are too many or too large to ride). */
  takeAudit(): AuditRow[] {
    if (!this.rides || !this.audit.length || this.audit.length > MAX_CARRIED_ROWS) return [];
    // published values are the only rows that can be large
    if (this.audit.some((r) => r.kind === 'var.set') && JSON.stringify(this.audit).length > MAX_CARRIED_BYTES) return [];
    return this.audit.splice(0);
  }

  /** Writes rows now without waiting (idempotent on seq): rows an activity carried but did not confirm writing, or the buffer `flushAudit` sends. */
  returnAudit(rows: AuditRow[], task: string): void {
    if (rows.length) this.auditWrites.push(this.writeAudit(task, rows));
  }

  private readonly auditWrites: Promise<void>[] = [];
  /** The first task of an event-started run carries the event's receipt time (event → first task latency). */
  private firstTaskPending = true;

  /**
   * Sends buffered audit rows now without waiting, so the next task starts in the same workflow task
   * (one activation per task instead of two). `drainAudit` waits for every write.
   */
  flushAudit(task: string): void {
    this.returnAudit(this.audit.splice(0), task);
  }

  /** Since `closeloop.audit-rides` an audit write is never cancelled with the tasks that recorded it (cancel_running). */
  private writeAudit(task: string, rows: AuditRow[]): Promise<void> {
    return this.rides ? CancellationScope.nonCancellable(() => auditStore(task).recordAudit(rows)) : auditStore(task).recordAudit(rows);
  }

  /** Writes the buffered audit rows and the runs-index row in one local activity (no activity round trip). */
  async drainWithIndex(index: RunIndexRow): Promise<void> {
    const rows = this.audit.splice(0);
    await Promise.all([...this.auditWrites.splice(0), auditStore('run').recordRun({ rows, index })]);
  }

  /** Writes what is buffered and waits for every audit write: before a run waits, continues or ends. */
  async drainAudit(task: string): Promise<void> {
    this.flushAudit(task);
    await Promise.all(this.auditWrites.splice(0));
  }

  scope(extra: Parameters<typeof scopeFor>[1] = {}): Scope {
    this.ctx.system.timestamp = Math.floor(Date.now() / 1000);
    return scopeFor(this.ctx, extra);
  }

  busy(group = ROOT): boolean {
    return (this.inflight.get(group) ?? 0) > 0;
  }

  /** Starts the entry tasks of a group (the run, or a parallel block). */
  startAll(names: string[]): void {
    for (const n of names) this.start(n);
  }

  private start(name: string): void {
    const group = this.wf.tasks[name]?.parent ?? ROOT;
    if (group === ROOT && !this.input.shard && workflowInfo().continueAsNewSuggested) {
      this.deferred.push(name);
      return;
    }
    this.inflight.set(group, (this.inflight.get(group) ?? 0) + 1);
    void this.runTask(name)
      .catch((err: unknown) => {
        // a cancelled task ends `cancelled`; anything else is an interpreter bug surfaced as a run failure
        const s = this.summaries.get(name);
        if (isCancellation(err)) {
          if (s) Object.assign(s, { status: 'cancelled', error: { type: 'cancelled', message: 'cancelled' } });
          this.record('task.completed', name, { status: 'cancelled' });
        } else this.failure ??= { task: name, error: { type: 'InternalError', message: err instanceof Error ? err.message : String(err) } };
      })
      .finally(() => this.inflight.set(group, (this.inflight.get(group) ?? 1) - 1));
  }

  private arrive(target: string, from: string): void {
    const task = this.wf.tasks[target]!;
    if (task.join === undefined) return this.start(target);
    const arrivals = this.joinArrivals.get(target) ?? new Set<string>();
    arrivals.add(from);
    this.joinArrivals.set(target, arrivals);
    const needed = task.join === 'all' ? task.inbound.length : task.join;
    if (arrivals.size === needed) {
      this.joinArrivals.set(target, new Set());
      this.start(target);
    }
  }

  /**
   * dsl.md: `join: all` waits for every upstream task that has fired "or can no longer fire". Once
   * nothing runs in the join's group, nothing more can fire into it: a join: all that at least one
   * upstream task reached runs now. (A `join: N` still needs N arrivals.) Returns true when one started.
   */
  settleJoins(group = ROOT): boolean {
    if (this.stopped() || this.busy(group)) return false;
    const waiting = [...this.joinArrivals].filter(
      ([t, arrived]) => arrived.size > 0 && this.wf.tasks[t]!.join === 'all' && (this.wf.tasks[t]!.parent ?? ROOT) === group,
    );
    // runs recorded before this rule ended with such a join never run: they replay unchanged
    if (!waiting.length || !patched(JOINS_SETTLE)) return false;
    for (const [target, arrived] of waiting) {
      this.record('transition', null, {
        via: 'join settled',
        to: [target],
        arrived: [...arrived],
        can_no_longer_fire: this.wf.tasks[target]!.inbound.filter((i) => !arrived.has(i)),
      });
      this.joinArrivals.set(target, new Set());
      this.start(target);
    }
    return true;
  }

  /** What a continued run needs to pick up where this one stops. */
  continuation(startedAt: string): NonNullable<TaskflowInput['resume']> {
    return {
      retry_of: this.input.resume?.retry_of ?? '',
      from: [...this.deferred],
      vars: this.ctx.vars,
      task: this.ctx.task,
      continued: {
        started_at: startedAt,
        summaries: [...this.summaries.values()],
        seq: this.seq,
        joins: Object.fromEntries([...this.joinArrivals].map(([k, v]) => [k, [...v]])),
        paused: this.paused,
      },
    };
  }

  stop(): void {
    this.stopping = true;
  }

  private stopped(): boolean {
    return this.stopping || this.failure !== null;
  }

  private async runTask(name: string): Promise<void> {
    const task = this.wf.tasks[name]!;
    if (this.paused) {
      setCurrentDetails(`paused: '${name}' waits for resume`);
      await condition(() => !this.paused);
    }
    const pause = this.pacer.step();
    if (pause) await pause;
    if (this.stopped()) return;
    const summary = this.summaries.get(name) ?? { name, status: 'running', runs: 0, attempts: 0, result: null, error: null };
    this.summaries.set(name, summary);
    summary.runs++;
    summary.status = 'running';
    if (summary.runs > this.wf.limits.max_task_runs) {
      this.failure = {
        task: name,
        error: { type: 'LimitError', message: `task '${name}' ran more than ${this.wf.limits.max_task_runs} times (limits.max_task_runs)` },
      };
      summary.status = 'failed';
      summary.error = this.failure.error;
      return;
    }
    const startedMs = Date.now();
    const record: TaskRecord = { status: 'running', result: null, error: null, attempts: 0, started_at: new Date(startedMs).toISOString(), ended_at: null };
    this.ctx.task[name] = record;
    const received =
      this.firstTaskPending && !this.input.resume && !this.input.shard ? (this.input.event as { received_at?: unknown } | undefined)?.received_at : undefined;
    this.firstTaskPending = false;
    this.record('task.started', name, {
      run: summary.runs,
      action: task.action ?? task.type,
      ...(typeof received === 'string' ? { event_received_at: received } : {}),
    });

    const outcome = await this.execute(task, summary.runs);
    Object.assign(record, {
      status: outcome.status,
      result: outcome.result,
      error: outcome.error,
      attempts: outcome.attempts,
      ended_at: new Date().toISOString(),
    });
    if (outcome.results) Object.assign(record, { results: outcome.results, failed_items: outcome.failed_items });
    Object.assign(summary, { status: outcome.status, result: outcome.result, error: outcome.error });
    summary.attempts += outcome.attempts;
    if (outcome.items) summary.items = outcome.items;

    const fired = this.transitions(task, outcome);
    this.record('task.completed', name, { run: summary.runs, status: outcome.status, attempts: outcome.attempts, error: outcome.error });
    // inline tasks (no activity, no timer) share one audit write; anything that took time is written at once
    // (since closeloop.audit-rides the rows go with the next task activity, or at the end of this activation)
    if (!this.rides && (Date.now() > startedMs || this.audit.length >= AUDIT_BATCH)) this.flushAudit(name);
    const isFailure = outcome.status === 'failed' || outcome.status === 'timed_out';
    if (isFailure && fired.length === 0) this.failGroup(task, outcome.error ?? { type: 'Error', message: `task '${name}' ${outcome.status}` });
    for (const f of fired) {
      for (const target of f.targets) {
        if (target === 'noop') continue;
        if (target === 'fail') {
          this.failure ??= { task: name, error: { type: 'Fail', message: `the run was failed on purpose by task '${name}' (${f.via})` } };
          continue;
        }
        if (!this.stopped()) this.arrive(target, name);
      }
    }
  }

  private failGroup(task: CompiledTask, error: TaskError): void {
    if (task.parent) {
      if (!this.blockFailures.has(task.parent)) this.blockFailures.set(task.parent, { type: error.type, message: `sub-task '${task.name}': ${error.message}` });
    } else this.failure ??= { task: task.name, error };
  }

  private transitions(task: CompiledTask, outcome: Outcome): { via: string; targets: string[] }[] {
    const scope = () => this.scope({ current: this.ctx.task[task.name]! });
    try {
      if (outcome.status === 'succeeded') this.publish(task.name, task.publish, 'publish');
      const fired = evaluateTransitions(task, outcome.status, scope, (p, via) => this.publish(task.name, p, via), this.pacer.limits);
      for (const f of fired) this.record('transition', task.name, { via: f.via, to: f.targets });
      return fired;
    } catch (err) {
      const message = err instanceof TransitionError || err instanceof TaskFailure ? err.message : String(err);
      this.failGroup(task, { type: 'TemplateError', message });
      return [];
    }
  }

  private publish(taskName: string, entries: [string, unknown][], via: string): void {
    for (const [key, tmpl] of entries) {
      let value: unknown;
      try {
        value = renderDeep(tmpl, this.scope({ current: this.ctx.task[taskName]! }), this.pacer.limits);
      } catch (err) {
        if (err instanceof ExpressionError) throw new TaskFailure({ type: 'TemplateError', message: `task '${taskName}' ${via} '${key}': ${err.describe()}` });
        throw err;
      }
      this.ctx.vars[key] = value;
      const size = JSON.stringify(this.ctx.vars).length;
      if (size > MAX_CONTEXT_BYTES)
        throw new TaskFailure({
          type: 'LimitError',
          message: `task '${taskName}' ${via} '${key}': workflow variables would be ${size} bytes, over the 10 MB context limit`,
        });
      this.record('var.set', taskName, { name: key, via, value });
    }
  }

  renderField(task: CompiledTask, field: string, value: unknown, extra: Parameters<typeof scopeFor>[1] = {}): unknown {
    try {
      return renderDeep(value, this.scope(extra), this.pacer.limits);
    } catch (err) {
      if (err instanceof ExpressionError) throw new TaskFailure({ type: 'TemplateError', message: `task '${task.name}', field '${field}': ${err.describe()}` });
      throw err;
    }
  }

  private async execute(task: CompiledTask, run: number): Promise<Outcome> {
    try {
      await readKv(this.ctx.kv, this.kvKeys, task, this.input.tenant).catch((err: unknown) => {
        throw asTaskFailure(err);
      });
      if (task.when !== undefined && !truthy(this.renderField(task, 'when', task.when))) return { status: 'skipped', result: null, error: null, attempts: 0 };
      if (task.type === 'parallel') return await this.runBlock(task);
      if (task.with_items !== undefined) {
        const shard = this.input.shard?.task === task.name ? this.input.shard : undefined;
        const items = shard ? shard.items : this.renderField(task, 'with_items', task.with_items);
        if (!Array.isArray(items))
          throw new TaskFailure({
            type: 'InputError',
            message: `task '${task.name}', field 'with_items': must render to a list, got ${items === null ? 'null' : typeof items}`,
          });
        if (items.length > this.wf.limits.max_items)
          throw new TaskFailure({
            type: 'LimitError',
            message: `task '${task.name}': ${items.length} items exceed limits.max_items (${this.wf.limits.max_items})`,
          });
        // large iterations run in child shards so no single history grows past Temporal's limits
        if (!shard && items.length > SHARD_SIZE) return await runShards(this, task, run, items, SHARD_SIZE);
        const offset = shard?.offset ?? 0;
        const total = shard?.total ?? items.length;
        return await runItems(
          task,
          items,
          this.wf.limits.max_parallel,
          (item, index) => runAttempts(this, task, run, { item, index: offset + index, total }),
          shard ? { tolerateAll: true } : {},
        );
      }
      const r = await runAttempts(this, task, run, {});
      return { status: 'succeeded', result: r.result, error: null, attempts: r.attempts };
    } catch (err) {
      if (!(err instanceof TaskFailure)) throw err;
      return {
        status: err.timedOut ? 'timed_out' : 'failed',
        result: null,
        error: err.error,
        attempts: (err as TaskFailure & { attempts?: number }).attempts ?? 1,
      };
    }
  }

  private async runBlock(task: CompiledTask): Promise<Outcome> {
    const subs = task.subtasks ?? [];
    const entries = subs.filter((s) => this.wf.tasks[s]!.inbound.length === 0);
    this.blockFailures.delete(task.name);
    setCurrentDetails(`parallel '${task.name}': waiting for ${subs.join(', ')}`);
    this.startAll(entries);
    do await condition(() => !this.busy(task.name));
    while (!this.blockFailures.has(task.name) && this.settleJoins(task.name));
    const failed = this.blockFailures.get(task.name);
    const result = Object.fromEntries(subs.filter((s) => this.ctx.task[s]).map((s) => [s, this.ctx.task[s]!.result]));
    return failed ? { status: 'failed', result, error: failed, attempts: 1 } : { status: 'succeeded', result, error: null, attempts: 1 };
  }

  /** Renders output_map (only when the run had no unhandled failure). */
  renderOutput(): unknown {
    if (this.wf.output_map === undefined) return {};
    try {
      return renderDeep(this.wf.output_map, this.scope(), this.pacer.limits);
    } catch (err) {
      if (err instanceof ExpressionError) throw new TaskFailure({ type: 'OutputError', message: `output_map: ${err.describe()}` });
      throw err;
    }
  }
}
