import { ExpressionError, render, truthy, type Limits, type Scope } from '../dsl/expr/index.js';
import type { CompiledTask, Transition } from '../dsl/types.js';
import type { TaskStatus } from '../contracts/run.js';
import { decisionId, transitionId } from './graph.js';

export interface Firing {
  /** The transition's id in the graph (`task__t0`, `task__d1`): routes are made of these. */
  id: string;
  /** Which transition fired, for the audit log. */
  via: string;
  targets: string[];
  publish: [string, unknown][];
}

/** Thrown for a template error in a transition: names the task and field. */
export class TransitionError extends Error {}

function evalWhen(when: string | undefined, scope: () => Scope, where: string, limits?: Limits): boolean {
  if (when === undefined) return true;
  try {
    return truthy(render(when, scope(), limits));
  } catch (err) {
    if (err instanceof ExpressionError) throw new TransitionError(`${where}: ${err.describe()}`);
    throw err;
  }
}

function matches(tr: Transition, status: TaskStatus, hasTimeoutHandler: boolean): boolean {
  switch (tr.on) {
    case 'succeeded':
      return status === 'succeeded';
    case 'failed':
      return status === 'failed' || (status === 'timed_out' && !hasTimeoutHandler);
    case 'timed_out':
      return status === 'timed_out';
    case 'completed':
      return true;
    case 'any':
      return status !== 'skipped' || tr.when === undefined;
  }
}

/**
 * The transitions that fire for a finished task run, in order. `applyPublish` is called for each
 * firing entry before the next entry's `when` is evaluated, so publishes are visible in order.
 */
export function evaluateTransitions(
  task: CompiledTask,
  status: TaskStatus,
  scope: () => Scope,
  applyPublish: (p: [string, unknown][], via: string) => void,
  limits?: Limits,
): Firing[] {
  const fired: Firing[] = [];
  const hasTimeoutHandler = task.transitions.some((t) => t.on === 'timed_out');
  if (status === 'succeeded' && task.decision) {
    const i = task.decision.findIndex((d, n) => evalWhen(d.when, scope, `task '${task.name}' decision[${n}].when`, limits));
    const branch = task.decision[i];
    if (branch)
      fired.push({ id: decisionId(task.name, i), via: branch.when ? `decision: ${branch.when}` : 'decision: default', targets: [branch.next], publish: [] });
  }
  task.transitions.forEach((tr, i) => {
    if (!matches(tr, status, hasTimeoutHandler)) return;
    const via =
      tr.on === 'any'
        ? `next[${i - task.transitions.findIndex((t) => t.on === 'any')}]`
        : `on_${tr.on === 'succeeded' ? 'success' : tr.on === 'failed' ? 'failure' : tr.on === 'timed_out' ? 'timeout' : 'complete'}`;
    if (!evalWhen(tr.when, scope, `task '${task.name}' ${via}.when`, limits)) return;
    if (tr.publish.length) applyPublish(tr.publish, via);
    fired.push({ id: transitionId(task.name, i), via, targets: tr.do, publish: tr.publish });
  });
  return fired;
}
