// The closure's three checks, in the rule's order: mandatory nodes, delivery receipts, reconciliation.
import { setCurrentDetails } from '@temporalio/workflow';
import { ExpressionError, renderDeep } from '../../dsl/expr/index.js';
import { gradeReconciliation } from '../../dsl/reconcile.js';
import { asTaskFailure } from '../actions.js';
import type { ClosureRun } from './context.js';
import { awaitReceipt, receiptOf, statusUrlOf } from './receipts.js';

/** Each mandatory node must have succeeded; a failed one may be rebuilt with its original input, or escalated. */
export async function checkMandatoryNodes(run: ClosureRun): Promise<void> {
  const { rule, tasks } = run;
  setCurrentDetails(`closure ${rule.id}: mandatory nodes`);
  for (const node of rule.mandatory_nodes) {
    const rec = tasks[node];
    if (rec?.status === 'succeeded') {
      run.check({ kind: 'mandatory_nodes', node, passed: true, remediated: false, severity: rule.severity.mandatory_nodes, detail: 'succeeded' });
      continue;
    }
    const knownAt = Date.now();
    const why = rec ? `${rec.status}${rec.error ? `: ${rec.error.message}` : ''}` : 'never ran';
    let passed = false;
    for (const m of run.ladder('node_failed')) {
      for (let n = 1; !passed && n <= m.max_attempts && run.remainingMs() > 0; n++) {
        if (m.do === 'rebuild') {
          passed = await run.remediate('node_failed', 'rebuild', node, n, knownAt, async () => {
            if (!rec || rec.input === undefined) return `node '${node}' has no recorded input to rebuild from (${why})`;
            const result = await run.runNode(node, rec.input, `rebuild-${n}`);
            Object.assign(rec, { status: 'succeeded', result, error: null });
            return null;
          });
        } else if (m.do === 'escalate')
          passed = await run.escalate('node_failed', m.assigned_to!, rule.severity.mandatory_nodes, `Mandatory node '${node}' ${why}`, { node }, knownAt, n);
      }
      if (passed) break;
    }
    run.check({
      kind: 'mandatory_nodes',
      node,
      passed,
      remediated: passed,
      severity: rule.severity.mandatory_nodes,
      detail: passed ? `${why}; remediated` : why,
    });
  }
}

/** Each receipt: the callback within the timeout, then a poll; a missing one is resent, or escalated. */
export async function checkReceipts(run: ClosureRun, confirmedByPoll: Set<string>): Promise<void> {
  const { rule, tasks } = run;
  for (const r of rule.receipts) {
    setCurrentDetails(`closure ${rule.id}: receipt of '${r.node}'`);
    const rec = tasks[r.node];
    let problem =
      rec?.status === 'succeeded'
        ? await awaitReceipt(run, confirmedByPoll, r.node, receiptOf(rec.result), r.timeout, statusUrlOf(rec.result))
        : `node '${r.node}' ${rec ? rec.status : 'never ran'}`;
    const first = problem;
    const knownAt = Date.now();
    for (const m of problem ? run.ladder('receipt_missing') : []) {
      for (let n = 1; problem && n <= m.max_attempts && run.remainingMs() > 0; n++) {
        if (m.do === 'resend') {
          await run.remediate('receipt_missing', 'resend', r.node, n, knownAt, async () => {
            if (!rec || rec.input === undefined) return `node '${r.node}' has no recorded input to resend`;
            const result = await run.runNode(r.node, rec.input, `resend-${n}`);
            problem = await awaitReceipt(run, confirmedByPoll, r.node, receiptOf(result), r.timeout, statusUrlOf(result));
            return problem;
          });
        } else if (m.do === 'escalate') {
          const ok = await run.escalate(
            'receipt_missing',
            m.assigned_to!,
            rule.severity.receipts,
            `No delivery receipt for '${r.node}'`,
            { node: r.node, problem },
            knownAt,
            n,
          );
          if (ok) problem = null;
        }
      }
      if (!problem) break;
    }
    const confirmed = confirmedByPoll.has(r.node) ? 'receipt confirmed by polling' : 'receipt confirmed';
    run.check({
      kind: 'receipts',
      node: r.node,
      passed: !problem,
      remediated: !problem && first !== null,
      severity: rule.severity.receipts,
      detail: problem ?? (first ? `${first}; remediated` : confirmed),
    });
  }
}

/** The rule's reconciliation action, graded with its tolerance; a mismatch may be escalated to a person. */
export async function checkReconciliation(run: ClosureRun): Promise<void> {
  const { rule, input } = run;
  const rc = rule.reconciliation;
  if (!rc) return;
  setCurrentDetails(`closure ${rule.id}: reconciliation`);
  let problem: string | null;
  let detail: Record<string, unknown> = {};
  try {
    const rendered = renderDeep(rc.input, {
      parameters: input.parameters,
      vars: input.vars,
      task: run.tasks,
      run: { id: input.run_id, status: input.run_status, tenant: input.tenant },
    });
    const result = await run.runAction({
      task: 'reconciliation',
      label: `closure: reconcile (${rc.action})`,
      ref: rc.action,
      input: rc.action === 'core.reconcile' ? { tolerance: rc.tolerance, ...(rendered as object) } : rendered,
      ...(rc.timeout ? { timeout: rc.timeout } : {}),
      key: `${input.run_id}:closure:reconcile`,
    });
    const graded = gradeReconciliation(result, rc.tolerance);
    detail = { differences: graded.differences };
    problem = graded.matched ? null : `reconciliation mismatch: ${graded.reason}`;
  } catch (err) {
    const message = err instanceof ExpressionError ? `reconciliation.input: ${err.describe()}` : asTaskFailure(err).error.message;
    problem = `reconciliation could not run: ${message}`;
  }
  const first = problem;
  const knownAt = Date.now();
  for (const m of problem ? run.ladder('reconciliation_mismatch') : []) {
    if (m.do !== 'escalate') continue;
    const title = `Reconciliation mismatch for run ${input.run_id}`;
    if (await run.escalate('reconciliation_mismatch', m.assigned_to!, rule.severity.reconciliation, title, { problem, ...detail }, knownAt, 1)) problem = null;
    break;
  }
  run.check({
    kind: 'reconciliation',
    passed: !problem,
    remediated: !problem && first !== null,
    severity: rule.severity.reconciliation,
    detail: problem ?? (first ? `${first}; accepted by a human` : 'matched'),
  });
}
