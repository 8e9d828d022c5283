// Joins per route (dsl.md "Joins and routes"): a join waits for distinct upstream tasks of its own
// route and group, fires once however many transitions of one task lead to it, resets when it starts.
import type { PendingJoin } from '../contracts/run.js';
import type { TaskError } from '../contracts/run.js';
import type { Graph } from './graph.js';
import { FAILURE } from '../contracts/failures.js';

export class Joins {
  constructor(
    private readonly graph: Graph,
    readonly pending: PendingJoin[],
    private readonly startedAt: Record<string, number>,
  ) {}

  private find(task: string, route: number, group: number): PendingJoin | undefined {
    return this.pending.find((j) => j.task === task && j.route === route && j.group === group);
  }

  /** Records an arrival; true when the join has all it waits for (and so should start). */
  arrive(task: string, route: number, group: number, from: string): boolean {
    let j = this.find(task, route, group);
    if (!j) {
      j = { task, route, group, arrived: [] };
      this.pending.push(j);
    }
    if (!j.arrived.includes(from)) j.arrived.push(from);
    return j.arrived.length >= this.graph.needed(task);
  }

  /** The join starts: the next arrivals (a cycle coming round) wait afresh; `seq` is the first run that belongs to the next round. */
  started(task: string, route: number, group: number, seq: number): void {
    const i = this.pending.findIndex((j) => j.task === task && j.route === route && j.group === group);
    if (i >= 0) this.pending.splice(i, 1);
    this.startedAt[`${task}|${route}|${group}`] = seq;
  }

  /** An arrival from a run that began before the join last started belongs to the round the join already ran for (join: N). */
  late(task: string, route: number, group: number, fromSeq: number): boolean {
    const at = this.startedAt[`${task}|${route}|${group}`];
    return at !== undefined && fromSeq < at;
  }

  /** Joins of a group still waiting; `onlyAll` keeps the `join: all` ones. */
  waiting(group: number, onlyAll = false): PendingJoin[] {
    return this.pending.filter((j) => j.group === group && j.arrived.length > 0 && (!onlyAll || this.graph.task(j.task).join === 'all'));
  }

  /** Removes a waiting join for good (it failed the run, or ran settled). */
  drop(j: PendingJoin): void {
    const i = this.pending.indexOf(j);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** The error of a join that nothing can satisfy any more: names the join and the branches that cannot arrive. */
  unreachable(j: PendingJoin): TaskError {
    const t = this.graph.task(j.task);
    const missing = t.inbound.filter((i) => !j.arrived.includes(i));
    const need = t.join === 'all' ? `all of ${quote(t.inbound)}` : `${t.join} of ${quote(t.inbound)}`;
    return {
      type: FAILURE.unreachableJoin,
      message: `join '${j.task}'${j.route ? ` (route ${j.route})` : ''} can never run: it waits for ${need}; ${quote(j.arrived)} arrived, ${quote(missing)} ended without a transition into it`,
    };
  }
}

const quote = (names: string[]) => (names.length ? names.map((n) => `'${n}'`).join(', ') : 'none');
