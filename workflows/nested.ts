import { ApplicationFailure, ChildWorkflowFailure, executeChild, workflowInfo } from '@temporalio/workflow';
import { childFeatures } from './features.js';
import { applyDefaults, checkSchema } from '../dsl/schema-lite.js';
import type { CompiledWorkflow } from '../dsl/types.js';
import { TaskFailure } from './actions.js';
import { SA, TASKFLOW } from '../contracts/definitions.js';
import type { RunSummary, TaskflowInput } from '../contracts/run.js';
import { FAILURE } from '../contracts/failures.js';

/** Runs a pinned workflow as a child `taskflow`; its output is the task result, its failure the task's. */
export async function runNested(opts: {
  parent: TaskflowInput;
  child: CompiledWorkflow;
  input: unknown;
  task: string;
  run: number;
  attempt: number;
  index?: number;
  label: string;
}): Promise<unknown> {
  const depth = (opts.parent.depth ?? 0) + 1;
  const { limits } = opts.parent.workflow;
  if (depth > limits.max_depth)
    throw new TaskFailure({ type: FAILURE.limit, message: `task '${opts.task}': nested runs deeper than limits.max_depth (${limits.max_depth})` });
  const given = opts.input && typeof opts.input === 'object' && !Array.isArray(opts.input) ? (opts.input as Record<string, unknown>) : {};
  const parameters = applyDefaults(opts.child.parameters, given);
  const problems = checkSchema(opts.child.parameters, parameters, 'input');
  if (problems.length)
    throw new TaskFailure({ type: FAILURE.input, message: `task '${opts.task}': input for nested workflow '${opts.child.ref}': ${problems.join('; ')}` });
  const childInput: TaskflowInput = {
    // the child shares the root's pinned children, actions and pack configuration
    workflow: {
      ...opts.child,
      ...(opts.parent.workflow.children ? { children: opts.parent.workflow.children } : {}),
      ...(opts.parent.workflow.actions ? { actions: opts.parent.workflow.actions } : {}),
      ...(opts.parent.workflow.pack_config ? { pack_config: opts.parent.workflow.pack_config } : {}),
      ...(opts.parent.workflow.mocked ? { mocked: opts.parent.workflow.mocked } : {}),
    },
    parameters,
    tenant: opts.parent.tenant,
    depth,
    ...(opts.parent.traceId ? { traceId: opts.parent.traceId } : {}),
    ...(opts.parent.permissions ? { permissions: opts.parent.permissions } : {}),
    ...(opts.parent.strategy ? { strategy: opts.parent.strategy } : {}),
    ...(opts.parent.features ? { features: childFeatures(opts.parent.features) } : {}),
  };
  try {
    const summary = (await executeChild(TASKFLOW, {
      workflowId: `${workflowInfo().workflowId}/${opts.task}/${opts.run}${opts.index !== undefined ? `/${opts.index}` : ''}${opts.attempt > 1 ? `.${opts.attempt}` : ''}`,
      args: [childInput],
      staticSummary: `${opts.label}: ${opts.child.ref}@${opts.child.version}`,
      typedSearchAttributes: [
        { key: SA.tenant, value: opts.parent.tenant },
        { key: SA.workflow, value: opts.child.ref },
        { key: SA.status, value: 'running' },
      ],
    })) as RunSummary;
    return summary.output;
  } catch (err) {
    if (err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure) {
      const summary = err.cause.details?.[0] as RunSummary | undefined;
      const inner = summary?.error ?? { type: err.cause.type ?? 'Error', message: err.cause.message };
      throw new TaskFailure(
        { type: inner.type, message: `nested run ${opts.child.ref} ${summary?.status ?? 'failed'}: ${inner.message}` },
        summary?.status === 'timed_out',
      );
    }
    throw err;
  }
}
