import { ParentClosePolicy, condition, setCurrentDetails, setHandler, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { CLOSURE, closureVerdictSignal, closureWorkflowId, type ClosureInput, type ClosureNode, type ClosureVerdict } from '../../contracts/closure.js';
import { SA } from '../../contracts/definitions.js';
import type { TaskHost as Driver } from '../host.js';
import type { RunStatus, RunSummary, TaskflowInput } from '../../contracts/run.js';

/**
 * Starts the closure of this run as a child (`closure:<run id>`) and waits for its verdict. The child
 * outlives the run when it must keep supplementing the delivery report (ABANDON), so the verdict
 * comes by signal, or as the child's result.
 */
export async function runClosure(
  engine: Driver,
  input: TaskflowInput,
  status: RunStatus,
  masked: Record<string, unknown>,
  run: RunSummary,
): Promise<ClosureVerdict> {
  const rule = input.closure!;
  const id = workflowInfo().workflowId;
  let verdict: ClosureVerdict | null = null;
  setHandler(closureVerdictSignal, (v) => {
    verdict ??= v;
  });
  const wanted = new Set([...rule.mandatory_nodes, ...rule.receipts.map((r) => r.node)]);
  const nodes: Record<string, ClosureNode> = {};
  for (const name of wanted) {
    const t = input.workflow.tasks[name];
    if (!t?.action) continue;
    nodes[name] = {
      action: t.action,
      ...(t.timeout !== undefined ? { timeout: t.timeout } : {}),
      idempotency_key: `${id}:${name}:${engine.summaries.get(name)?.runs ?? 1}`,
    };
  }
  const args: ClosureInput = {
    run_id: id,
    tenant: input.tenant,
    rule,
    workflow_ref: input.workflow.ref,
    workflow_version: input.workflow.version,
    ...(input.strategy ? { strategy: input.strategy } : {}),
    ...(input.traceId ? { trace_id: input.traceId } : {}),
    ...(input.permissions ? { permissions: input.permissions } : {}),
    run_status: status,
    graph_ended_at: new Date().toISOString(),
    run: { ...run, status, ended_at: new Date().toISOString() },
    tasks: Object.fromEntries([...wanted].filter((n) => engine.ctx.task[n]).map((n) => [n, engine.ctx.task[n]!])),
    parameters: masked,
    vars: engine.ctx.vars,
    nodes,
    ...(input.workflow.actions ? { actions: input.workflow.actions } : {}),
    ...(input.workflow.pack_config ? { pack_config: input.workflow.pack_config } : {}),
  };
  if (engine.rides) await engine.drainAudit('closure'); // the run's last rows are written before a closure that may take hours
  upsertSearchAttributes([
    { key: SA.status, value: status },
    { key: SA.closure, value: 'validating' },
  ]);
  setCurrentDetails(`closure validation (${rule.id}): waiting for the verdict of ${closureWorkflowId(id)}`);
  const child = await startChild(CLOSURE, {
    workflowId: closureWorkflowId(id),
    args: [args],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    staticSummary: `closure ${rule.id} of ${input.workflow.ref}`,
    typedSearchAttributes: [
      { key: SA.tenant, value: input.tenant },
      { key: SA.workflow, value: input.workflow.ref },
    ],
  });
  child.result().then(
    (v: ClosureVerdict) => {
      verdict ??= v;
    },
    (err: unknown) => {
      verdict ??= {
        rule: rule.id,
        verdict: 'failed',
        checks: [
          { kind: 'mandatory_nodes', passed: false, remediated: false, severity: 'critical', detail: `the closure workflow failed: ${(err as Error).message}` },
        ],
      };
    },
  );
  await condition(() => verdict !== null);
  const v = verdict!;
  upsertSearchAttributes([{ key: SA.closure, value: v.verdict }]);
  engine.record('var.set', null, { name: 'closure', value: { rule: v.rule, verdict: v.verdict } });
  return v;
}
