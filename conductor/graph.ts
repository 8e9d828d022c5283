// What the conductor needs to know of a compiled workflow's shape, worked out once per run.
import type { CompiledTask, CompiledWorkflow } from '../dsl/types.js';

/** An edge of the graph: one target of one transition (or decision branch) of a task. */
export interface Edge {
  /** `<task>__t<i>` for transition i, `<task>__d<i>` for decision branch i: the route vocabulary of Orquesta. */
  id: string;
  from: string;
  to: string;
}

export const ENGINE_TARGETS = new Set(['fail', 'noop']);
/** Orquesta's `continue`: the route ends and a failure stays unhandled (`noop` handles it). An engine command only where no task has the name (older workflows may). */
export const CONTINUE = 'continue';

export const transitionId = (task: string, i: number) => `${task}__t${i}`;
export const decisionId = (task: string, i: number) => `${task}__d${i}`;

export class Graph {
  /** Tasks a transition of another task leads to more than once (counting each transition and branch) and that are not joins nor in a cycle: each arrival is a route of its own. */
  readonly splits = new Set<string>();
  readonly inCycle = new Set<string>();
  private readonly edgesInto = new Map<string, Edge[]>();

  constructor(readonly wf: CompiledWorkflow) {
    for (const task of Object.values(wf.tasks))
      for (const e of outEdges(task)) {
        if (this.isEngine(e.to)) continue;
        const list = this.edgesInto.get(e.to) ?? [];
        list.push(e);
        this.edgesInto.set(e.to, list);
      }
    for (const name of Object.keys(wf.tasks)) if (this.reaches(name, name)) this.inCycle.add(name);
    for (const [name, edges] of this.edgesInto) {
      const t = wf.tasks[name]!;
      if (t.join === undefined && edges.length > 1 && !this.inCycle.has(name)) this.splits.add(name);
    }
  }

  isEngine(target: string): boolean {
    return ENGINE_TARGETS.has(target) || (target === CONTINUE && !this.wf.tasks[CONTINUE]);
  }

  task(name: string): CompiledTask {
    const t = this.wf.tasks[name];
    if (!t) throw new Error(`conductor: no task '${name}' in ${this.wf.ref}`);
    return t;
  }

  /** Distinct tasks with a transition into `name`. */
  inbound(name: string): string[] {
    return this.task(name).inbound;
  }

  /** How many distinct upstream tasks a join waits for. */
  needed(name: string): number {
    const t = this.task(name);
    return t.join === 'all' ? t.inbound.length : (t.join ?? 1);
  }

  /** The tasks a group starts with: the run's entry tasks, or a parallel block's sub-tasks nothing leads to. */
  entries(block?: string): string[] {
    if (!block) return this.wf.entry;
    return (this.task(block).subtasks ?? []).filter((s) => this.task(s).inbound.length === 0);
  }

  private reaches(from: string, target: string): boolean {
    const seen = new Set<string>();
    const queue = outEdges(this.task(from)).map((e) => e.to);
    while (queue.length) {
      const next = queue.shift()!;
      if (next === target) return true;
      if (seen.has(next) || !this.wf.tasks[next]) continue;
      seen.add(next);
      for (const e of outEdges(this.task(next))) queue.push(e.to);
    }
    return false;
  }
}

/** Every edge out of a task, engine commands included. */
export function outEdges(task: CompiledTask): Edge[] {
  const edges: Edge[] = [];
  task.transitions.forEach((tr, i) => tr.do.forEach((to) => edges.push({ id: transitionId(task.name, i), from: task.name, to })));
  (task.decision ?? []).forEach((d, i) => edges.push({ id: decisionId(task.name, i), from: task.name, to: d.next }));
  return edges;
}
