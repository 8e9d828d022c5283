// The runs the conductor knows of (staged, parked, running), and which have been handed to the driver.
import type { ConductorState, RunEntry } from '../contracts/run.js';

export class RunTable {
  private readonly handedOut = new Set<number>();
  /** Runs staged by the completion being processed: they start even if a later `fail` target of the same completion stops the run. */
  private batch = new Set<number>();

  constructor(private readonly s: ConductorState) {}

  add(task: string, route: number, group: number, via: string[]): RunEntry {
    const r: RunEntry = { seq: this.s.nextSeq++, task, route, group, phase: 'staged', via };
    this.s.runs.push(r);
    return r;
  }

  get(seq: number): RunEntry | undefined {
    return this.s.runs.find((r) => r.seq === seq);
  }

  /** A staged run of `task` on a route and group, not yet begun: a second arrival joins it. */
  staged(task: string, route: number, group: number): RunEntry | undefined {
    return this.s.runs.find((x) => x.task === task && x.route === route && x.group === group && x.phase === 'staged');
  }

  remove(seq: number): void {
    const i = this.s.runs.findIndex((r) => r.seq === seq);
    if (i >= 0) this.s.runs.splice(i, 1);
    this.handedOut.delete(seq);
  }

  private fresh(): RunEntry[] {
    return this.s.runs.filter((r) => r.phase === 'staged' && !this.handedOut.has(r.seq));
  }

  /** Runs to start now, in the order they were staged (each handed out once). */
  take(): RunEntry[] {
    const out = this.fresh();
    for (const r of out) this.handedOut.add(r.seq);
    return out;
  }

  freshTasks(): string[] {
    return this.fresh().map((r) => r.task);
  }

  parked(): RunEntry[] {
    return this.s.runs.filter((r) => r.phase === 'parked');
  }

  busy(group: number): boolean {
    return this.s.runs.some((r) => r.group === group && r.phase !== 'parked');
  }

  /** The completion being processed staged these: they may start although it stopped the run. */
  markBatch(): void {
    for (const r of this.fresh()) this.batch.add(r.seq);
  }

  inBatch(seq: number): boolean {
    return this.batch.has(seq);
  }

  endBatch(): void {
    this.batch = new Set();
  }
}
