// The interpreter's brain, with no Temporal in it (architecture.md): what happened in, what to start
// out. State is kept per task run (task, route, sequence), never per task name; it serialises, so
// continue-as-new carries it. The taskflow workflow is a driver that feeds it and carries out its starts.
import type { ConductorState, RunEntry } from '../contracts/run.js';
import type { CompiledWorkflow } from '../dsl/types.js';
import type { TaskError, TaskRecord, TaskSummary } from '../contracts/run.js';
import { CONTINUE, Graph } from './graph.js';
import { Joins } from './joins.js';
import { RunTable } from './runs.js';
import { emptyState, type ConductorOptions } from './state.js';
import { Renderer } from './render.js';
import type { RunContext } from './scope.js';
import { TransitionError, evaluateTransitions, type Firing } from './transitions.js';
import { TaskFailure } from './errors.js';
import { applyOutcome, startRecord, type Outcome } from './records.js';
import { FAILURE } from '../contracts/failures.js';

export { emptyState, type ConductorOptions } from './state.js';

export type { Outcome } from './records.js';
export type JoinPolicy = 'fail' | 'settle' | 'wait';

export class Conductor extends Renderer {
  readonly graph: Graph;
  private readonly s: ConductorState;
  private readonly joins: Joins;
  readonly summaries = new Map<string, TaskSummary>();
  /** Records of the runs that are running, by seq: a run's transitions see its own outcome. */
  private readonly running = new Map<number, TaskRecord>();
  private readonly runs: RunTable;

  constructor(wf: CompiledWorkflow, ctx: RunContext, opts: ConductorOptions, state: ConductorState = emptyState()) {
    super(ctx, opts);
    this.graph = new Graph(wf);
    this.s = state;
    state.joinsStarted ??= {};
    this.joins = new Joins(this.graph, state.joins, state.joinsStarted);
    this.runs = new RunTable(state);
    for (const t of state.summaries) this.summaries.set(t.name, t);
    // a run that continued as new starts again what was held back for it
    for (const r of state.runs) if (r.phase === 'parked') r.phase = 'staged';
  }

  get failure(): { task: string; error: TaskError } | null {
    return this.s.failure;
  }

  stopped(): boolean {
    return this.s.stopping || this.s.failure !== null;
  }

  /** Nothing new starts (cancel, timeout, unhandled failure). */
  stop(): void {
    this.s.stopping = true;
  }

  /** Fails the run (the first failure wins). */
  fail(task: string, error: TaskError): void {
    this.s.failure ??= { task, error };
  }

  /** Stages tasks on route 0 of a group: the entry tasks, or the tasks a retry starts from. */
  stage(names: string[], group = 0, route = 0): void {
    for (const task of names) this.runs.add(task, route, group, []);
  }

  /** Runs to start now, in the order they were staged (each handed out once). */
  takeStarts(): RunEntry[] {
    return this.runs.take();
  }

  /** Holds a run back for the next run of the workflow (continue-as-new). */
  park(seq: number): void {
    const r = this.entry(seq);
    if (r) r.phase = 'parked';
  }

  /** The tasks of the runs staged and not yet handed out (a continued run's audit says what it starts with). */
  stagedTasks(): string[] {
    return this.runs.freshTasks();
  }

  parked(): RunEntry[] {
    return this.runs.parked();
  }

  /** Anything staged or running in a group (a parallel block's run seq, or 0 for the run). */
  busy(group = 0): boolean {
    return this.runs.busy(group);
  }

  /** A run starts: its number, or null when nothing may start any more (or the task ran too often). */
  begin(seq: number, detail: Record<string, unknown> = {}): { runNo: number; record: TaskRecord } | null {
    const r = this.entry(seq);
    if (!r || (this.stopped() && !this.runs.inBatch(seq))) return null;
    const task = this.graph.task(r.task);
    const summary = this.summaries.get(r.task) ?? { name: r.task, status: 'running', runs: 0, attempts: 0, result: null, error: null };
    this.summaries.set(r.task, summary);
    summary.runs++;
    summary.status = 'running';
    if (summary.runs > this.graph.wf.limits.max_task_runs) {
      const error = { type: FAILURE.limit, message: `task '${r.task}' ran more than ${this.graph.wf.limits.max_task_runs} times (limits.max_task_runs)` };
      this.s.failure = { task: r.task, error };
      Object.assign(summary, { status: 'failed', error });
      return null;
    }
    if (task.join !== undefined) this.joins.started(r.task, r.route, r.group, this.s.nextSeq);
    r.phase = 'running';
    r.runNo = summary.runs;
    const record = startRecord(this.opts.now());
    this.ctx.task[r.task] = record;
    if (this.ctx.notRun) this.ctx.notRun.view = undefined;
    this.running.set(seq, record);
    const via = r.via.length ? { via: r.via } : {};
    this.opts.record('task.started', r.task, {
      run: summary.runs,
      action: task.action ?? task.type,
      ...(r.route ? { route: r.route } : {}),
      ...via,
      ...detail,
    });
    return { runNo: summary.runs, record };
  }

  /** The record a running run writes to (its own, not the task's latest). */
  recordOf(seq: number): TaskRecord | undefined {
    return this.running.get(seq);
  }

  /** The runs a completion staged have been dispatched: from now on a stopped run starts nothing. */
  endBatch(): void {
    this.runs.endBatch();
  }

  /** A run ended: its record and summary, its transitions against its own outcome, what they lead to. */
  complete(seq: number, outcome: Outcome): void {
    const r = this.entry(seq);
    const record = this.running.get(seq);
    if (!r || !record) throw new Error(`conductor: run ${seq} is not running`);
    this.running.delete(seq);
    this.remove(seq);
    const summary = this.summaries.get(r.task)!;
    applyOutcome(record, summary, outcome, this.opts.now());
    const fired = this.transitions(r, record, outcome);
    this.opts.record('task.completed', r.task, { run: r.runNo, status: outcome.status, attempts: outcome.attempts, error: outcome.error });
    const failed = outcome.status === 'failed' || outcome.status === 'timed_out';
    const continues = (t: string) => t === CONTINUE && this.graph.isEngine(t);
    // a transition to `continue` only (Orquesta) publishes and ends its route, but handles nothing
    const handled = fired.some((f) => f.targets.length === 0 || !f.targets.every(continues));
    if (failed && !handled) this.failIn(r.group, r.task, outcome.error ?? { type: FAILURE.error, message: `task '${r.task}' ${outcome.status}` });
    for (const f of fired)
      for (const target of f.targets) {
        if (target === 'noop' || continues(target)) continue;
        if (target === 'fail') {
          this.fail(r.task, { type: FAILURE.fail, message: `the run was failed on purpose by task '${r.task}' (${f.via})` });
          continue;
        }
        if (!this.stopped()) this.arrive(target, r, f.id);
      }
    this.runs.markBatch();
  }

  /** A run ended without an outcome: cancelled with its scope, or an interpreter error (which fails the run). */
  abort(seq: number, how: 'cancelled' | { internal: string }): void {
    const r = this.entry(seq);
    this.running.delete(seq);
    this.remove(seq);
    if (!r) return;
    if (how === 'cancelled') {
      const s = this.summaries.get(r.task);
      if (s) Object.assign(s, { status: 'cancelled', error: { type: FAILURE.cancelled, message: 'cancelled' } });
      this.opts.record('task.completed', r.task, { status: 'cancelled' });
    } else this.fail(r.task, { type: FAILURE.internal, message: how.internal });
  }

  /** Forgets a run that never began (nothing may start any more) or has already ended. */
  release(seq: number): void {
    if (!this.running.has(seq)) this.remove(seq);
  }

  /** A parallel block's run starts its sub-tasks, on its own route. */
  openBlock(seq: number): void {
    const r = this.entry(seq)!;
    delete this.s.blockFailures[seq];
    for (const task of this.graph.entries(r.task)) this.runs.add(task, r.route, seq, []);
  }

  blockFailed(seq: number): boolean {
    return this.s.blockFailures[seq] !== undefined;
  }

  /** The block's sub-tasks have all ended: its outcome (failed when a sub-task failure was not handled). */
  closeBlock(seq: number, attempts = 1): Outcome {
    const r = this.entry(seq)!;
    const subs = this.graph.task(r.task).subtasks ?? [];
    const result = Object.fromEntries(subs.filter((s) => this.ctx.task[s]).map((s) => [s, this.ctx.task[s]!.result]));
    const failed = this.s.blockFailures[seq];
    return failed ? { status: 'failed', result, error: failed, attempts } : { status: 'succeeded', result, error: null, attempts };
  }

  /** Joins of a group that still wait although nothing in the group runs; `onlyAll` keeps `join: all` ones. */
  waitingJoins(group = 0, onlyAll = false) {
    return this.joins.waiting(group, onlyAll);
  }

  /**
   * The group is idle and joins still wait: 'fail' fails them (UnreachableJoin, the run or the block),
   * 'settle' starts each `join: all` (runs recorded before Orquesta's rule), 'wait' leaves them.
   * True when something was started.
   */
  settle(group: number, policy: JoinPolicy): boolean {
    if (this.stopped() || this.busy(group) || policy === 'wait') return false;
    const waiting = this.joins.waiting(group, policy === 'settle');
    if (!waiting.length) return false;
    if (policy === 'fail') {
      const first = waiting[0]!;
      const error = this.joins.unreachable(first);
      for (const j of waiting) this.joins.drop(j);
      this.failIn(group, first.task, error);
      return false;
    }
    for (const j of waiting) {
      const t = this.graph.task(j.task);
      this.opts.record('transition', null, {
        via: 'join settled',
        to: [j.task],
        arrived: j.arrived,
        can_no_longer_fire: t.inbound.filter((i) => !j.arrived.includes(i)),
      });
      this.joins.drop(j);
      this.runs.add(j.task, j.route, group, j.arrived);
    }
    return true;
  }

  serialize(): ConductorState {
    return { ...this.s, summaries: [...this.summaries.values()] };
  }

  private entry(seq: number): RunEntry | undefined {
    return this.runs.get(seq);
  }

  private remove(seq: number): void {
    this.runs.remove(seq);
  }

  /** A sub-task's unhandled failure fails its block (after the block's other sub-tasks end); any other fails the run. */
  private failIn(group: number, task: string, error: TaskError): void {
    if (group) this.s.blockFailures[group] ??= { type: error.type, message: `sub-task '${task}': ${error.message}` };
    else this.fail(task, error);
  }

  private transitions(r: RunEntry, record: TaskRecord, outcome: Outcome): Firing[] {
    const task = this.graph.task(r.task);
    const scope = () => this.scope({ current: record });
    try {
      if (outcome.status === 'succeeded') this.publish(r.task, task.publish, 'publish', record);
      const fired = evaluateTransitions(task, outcome.status, scope, (p, via) => this.publish(r.task, p, via, record), this.limits);
      for (const f of fired) this.opts.record('transition', r.task, { via: f.via, to: f.targets, ...(r.route ? { route: r.route } : {}) });
      return fired;
    } catch (err) {
      const message = err instanceof TransitionError || err instanceof TaskFailure ? err.message : String(err);
      this.failIn(r.group, r.task, { type: FAILURE.template, message });
      return [];
    }
  }

  /** A transition fired into `target`: on a new route when the target splits the flow, through the join when it is one. */
  private arrive(target: string, from: RunEntry, edge: string): void {
    const t = this.graph.task(target);
    const route = this.routeInto(target, from.route, edge);
    const staged = this.runs.staged(target, route, from.group);
    if (t.join !== undefined) {
      if (this.joins.late(target, route, from.group, from.seq)) {
        this.opts.record('transition', from.task, { via: 'late for join', to: [target], note: `'${target}' already ran for this round` });
        return;
      }
      if (!this.joins.arrive(target, route, from.group, from.task)) return;
      if (staged) return void (staged.via.includes(from.task) || staged.via.push(from.task));
      const j = this.joins.pending.find((x) => x.task === target && x.route === route && x.group === from.group)!;
      this.runs.add(target, route, from.group, [...j.arrived]);
      return;
    }
    // two arrivals on one route before the task starts (a cycle) run it once, as in Orquesta
    if (staged) return void (staged.via.includes(from.task) || staged.via.push(from.task));
    this.runs.add(target, route, from.group, [from.task]);
  }

  /** Orquesta's routes: arriving at a split task through edge E extends the route with E. */
  private routeInto(target: string, route: number, edge: string): number {
    if (!this.graph.splits.has(target)) return route;
    const current = this.s.routes[route] ?? [];
    if (current.includes(edge)) return route;
    this.s.routes.push([...current, edge]);
    return this.s.routes.length - 1;
  }
}
