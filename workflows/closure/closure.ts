// The `closure` workflow (interfaces.md): the run's outcome verified, remediated where the rule says
// how, a verdict, a delivery report, an incident when it failed. One module per check around ClosureRun.
import { getExternalWorkflowHandle, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Severity } from '../../dsl/closure-rules.js';
import type { ClosureRecord, CoreActivities, Verdict } from '../../activities/types.js';
import { REPORT_ONCE, REPORT_UNTIL_DONE } from '../../contracts/activity-options.js';
import { closureVerdictSignal, type ClosureInput, type ClosureVerdict } from '../../contracts/closure.js';
import { SA } from '../../contracts/definitions.js';
import { asTaskFailure } from '../actions.js';
import { checkMandatoryNodes, checkReceipts, checkReconciliation } from './checks.js';
import { ClosureRun, book } from './context.js';

const reportOnce = proxyActivities<CoreActivities>({ ...REPORT_ONCE, summary: 'delivery report' });
const reportUntilDone = proxyActivities<CoreActivities>({ ...REPORT_UNTIL_DONE, summary: 'delivery report (supplement)' });
const RANK: Record<Severity, number> = { info: 0, warning: 1, high: 2, critical: 3 };

/**
 * Closure validation of one run: mandatory nodes, delivery receipts (callback, then poll), reconciliation;
 * remediation in the rule's order within its deadline; a verdict, a delivery report, an incident on failure.
 */
export async function closure(input: ClosureInput): Promise<ClosureVerdict> {
  const run = new ClosureRun(input);
  upsertSearchAttributes([
    { key: SA.tenant, value: input.tenant },
    { key: SA.closure, value: 'validating' },
  ]);
  run.record('closure.started', null, { rule: run.rule.id, run_status: input.run_status, deadline: new Date(run.deadlineAt).toISOString() });
  await checkMandatoryNodes(run);
  await checkReceipts(run, new Set());
  await checkReconciliation(run);
  const rec = await decide(run);
  return report(run, rec);
}

/** The verdict: failed (with an incident at the worst failing check's severity), remediated, or closed; recorded. */
async function decide(run: ClosureRun): Promise<ClosureRecord> {
  const { input, checks, remediations } = run;
  const failing = checks.filter((c) => !c.passed);
  const verdict: Verdict = failing.length ? 'failed' : remediations.some((r) => r.outcome === 'succeeded') ? 'remediated' : 'closed';
  if (verdict === 'failed') {
    const severity = failing.map((c) => c.severity).reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'info' as Severity);
    try {
      await run.openIncident(severity, `Closure failed for ${input.workflow_ref} run ${input.run_id}`, {
        failing: failing.map((c) => `${c.kind}${c.node ? ` ${c.node}` : ''}: ${c.detail}`),
      });
    } catch (err) {
      run.record('closure.check', null, { incident: 'could not be opened', error: asTaskFailure(err).error.message });
    }
  }
  const slowest = remediations.length ? Math.max(...remediations.map((r) => r.latency_seconds)) : null;
  const rec: ClosureRecord = {
    execution_id: input.run_id,
    tenant: input.tenant,
    rule: run.rule.id,
    verdict,
    checks,
    remediations,
    graph_ended_at: input.graph_ended_at,
    verdict_at: new Date().toISOString(),
    remediation_seconds: slowest,
    workflow_ref: input.workflow_ref,
    workflow_version: input.workflow_version,
    ...(input.strategy ? { strategy: input.strategy } : {}),
    ...(input.trace_id ? { trace_id: input.trace_id } : {}),
  };
  run.record('closure.verdict', null, { verdict, failing: failing.length, remediations: remediations.length });
  await run.flush();
  await book.recordClosure(rec);
  return rec;
}

/** The delivery report: if it cannot be written or sent now, the verdict is pending_supplement and it is retried until it is. */
async function report(run: ClosureRun, rec: ClosureRecord): Promise<ClosureVerdict> {
  const { rule, checks } = run;
  const { verdict } = rec;
  const request = {
    closure: rec,
    run: run.input.run,
    audit: rule.report.audit,
    notify: rule.report.notify,
    ...(rule.report.channel ? { channel: rule.report.channel } : {}),
  };
  const tell = async (v: Verdict) => {
    upsertSearchAttributes([{ key: SA.closure, value: v }]);
    const parent = workflowInfo().parent;
    if (parent)
      await getExternalWorkflowHandle(parent.workflowId, parent.runId)
        .signal(closureVerdictSignal, { rule: rule.id, verdict: v, checks })
        .catch(() => undefined);
  };
  setCurrentDetails(`closure ${rule.id}: ${verdict}; writing the delivery report`);
  try {
    await reportOnce.writeReport(request);
    await tell(verdict);
    return { rule: rule.id, verdict, checks };
  } catch {
    await book.recordClosure({ ...rec, verdict: 'pending_supplement' });
    await tell('pending_supplement');
  }
  setCurrentDetails(`closure ${rule.id}: pending_supplement — retrying the delivery report until it is written and sent`);
  await reportUntilDone.writeReport({ ...request, final_verdict: verdict });
  run.record('closure.supplemented', null, { verdict });
  await run.flush();
  await book.recordClosure({ ...rec, verdict });
  upsertSearchAttributes([{ key: SA.closure, value: verdict }]);
  return { rule: rule.id, verdict, checks };
}
