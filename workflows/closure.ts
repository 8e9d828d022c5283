import {
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ExpressionError, renderDeep } from '../dsl/expr/index.js';
import { gradeReconciliation } from '../dsl/reconcile.js';
import type { FailureKind, Severity } from '../dsl/closure-rules.js';
import type { AuditRow, ClosureCheck, ClosureRecord, CoreActivities, RemediationRecord, Verdict } from '../activities/types.js';
import { TaskFailure, asTaskFailure, type AttemptContext } from './actions.js';
import { closureVerdictSignal, type ClosureInput, type ClosureVerdict } from './closure-defs.js';
import { SA, callbackSignal } from './definitions.js';
import { InquiryBook } from './inquiries.js';
import { runAnyAction } from './pack-actions.js';

const acts = proxyActivities<CoreActivities>({ startToCloseTimeout: '60s', retry: { initialInterval: '1s', maximumInterval: '30s' } });
// database bookkeeping as local activities (a marker each, no task-queue round trip), as the run's own audit
const book = proxyLocalActivities<CoreActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
  summary: 'closure bookkeeping',
});
const reportOnce = proxyActivities<CoreActivities>({
  startToCloseTimeout: '60s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 3 },
  summary: 'delivery report',
});
const reportUntilDone = proxyActivities<CoreActivities>({
  startToCloseTimeout: '60s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m' },
  summary: 'delivery report (supplement)',
});

const RANK: Record<Severity, number> = { info: 0, warning: 1, high: 2, critical: 3 };
const BAD_RECEIPT = new Set(['failed', 'bounced', 'rejected', 'undeliverable']);

/**
 * Closure validation of one run: mandatory nodes, delivery receipts (callback, then poll), reconciliation;
 * remediation in the rule's order within its deadline; a verdict, a delivery report, an incident on failure.
 */
export async function closure(input: ClosureInput): Promise<ClosureVerdict> {
  const rule = input.rule;
  const id = workflowInfo().workflowId;
  const deadlineAt = Date.parse(input.graph_ended_at) + rule.deadline * 1000;
  const remainingMs = () => Math.max(0, deadlineAt - Date.now());
  const tasks = JSON.parse(JSON.stringify(input.tasks)) as ClosureInput['tasks'];
  const checks: ClosureCheck[] = [];
  const remediations: RemediationRecord[] = [];
  /** `callback` signals by token: asynchronous plugin results of re-run nodes, and delivery receipts. */
  const callbacks = new Map<string, unknown>();
  const inquiries = new InquiryBook();
  const audit: AuditRow[] = [];
  let seq = 0;
  const record = (kind: AuditRow['kind'], task: string | null, detail: Record<string, unknown>) =>
    audit.push({ execution_id: id, tenant: input.tenant, seq: ++seq, kind, task, detail, at: new Date().toISOString() });
  const flush = async () => {
    const rows = audit.splice(0);
    if (rows.length) await book.recordAudit(rows);
  };

  setHandler(callbackSignal, (c) => {
    if (c && typeof c.token === 'string') callbacks.set(c.token, c.result);
  });
  inquiries.listen((r, problems) => record('inquiry.rejected', null, { inquiry_id: r?.inquiry_id ?? null, problems }));

  upsertSearchAttributes([
    { key: SA.tenant, value: input.tenant },
    { key: SA.closure, value: 'validating' },
  ]);
  record('closure.started', null, { rule: rule.id, run_status: input.run_status, deadline: new Date(deadlineAt).toISOString() });

  /** Runs an action for the closure, under the run's permissions, with an idempotency key of its own. */
  const runAction = (a: { task: string; label: string; ref: string; input: unknown; timeout?: number; key: string }): Promise<unknown> => {
    const ctx: AttemptContext = {
      task: a.task,
      label: a.label,
      ref: a.ref,
      input: a.input,
      attempt: 1,
      ...(a.timeout !== undefined ? { timeout: a.timeout } : {}),
      idempotencyKey: a.key,
      tenant: input.tenant,
      executionId: id,
      ...(input.trace_id ? { traceId: input.trace_id } : {}),
      ...(input.permissions ? { permissions: input.permissions } : {}),
      ...(input.strategy ? { strategy: input.strategy } : {}),
    };
    return runAnyAction(ctx, input.actions, input.pack_config, callbacks);
  };
  /** Runs a node of the run again (rebuild, resend) with its original input and a new idempotency key. */
  const runNode = async (node: string, nodeInput: unknown, purpose: string): Promise<unknown> => {
    const def = input.nodes[node];
    if (!def) throw new TaskFailure({ type: 'ClosureError', message: `node '${node}' is not a task of ${input.workflow_ref}` });
    return runAction({
      task: node,
      label: `closure: ${purpose} ${node}`,
      ref: def.action,
      input: nodeInput,
      ...(def.timeout !== undefined ? { timeout: def.timeout } : {}),
      key: `${input.run_id}:${node}:closure:${purpose}`,
    });
  };

  /** Runs one remediation step and records when it started relative to when the failure was known. */
  const remediate = async (
    on: FailureKind,
    what: RemediationRecord['do'],
    node: string | undefined,
    attempt: number,
    knownAt: number,
    act: () => Promise<string | null>,
  ): Promise<boolean> => {
    const started = Date.now();
    let outcome: RemediationRecord['outcome'] = 'succeeded';
    let detail: string;
    try {
      const problem = await act();
      if (problem) [outcome, detail] = ['failed', problem];
      else detail = 'ok';
    } catch (err) {
      outcome = 'failed';
      detail = asTaskFailure(err).error.message;
    }
    const rec: RemediationRecord = {
      on,
      do: what,
      ...(node ? { node } : {}),
      attempt,
      failure_known_at: new Date(knownAt).toISOString(),
      started_at: new Date(started).toISOString(),
      latency_seconds: (started - knownAt) / 1000,
      outcome,
      detail,
    };
    remediations.push(rec);
    record('closure.remediation', node ?? null, { ...rec });
    return outcome === 'succeeded';
  };

  /** escalate: an incident plus a human inquiry to `assigned_to`; accepted when they answer accept: true in time. */
  const escalate = async (
    on: FailureKind,
    assignedTo: string,
    severity: Severity,
    title: string,
    detail: Record<string, unknown>,
    knownAt: number,
    n: number,
  ): Promise<boolean> =>
    remediate(on, 'escalate', typeof detail.node === 'string' ? detail.node : undefined, n, knownAt, async () => {
      await openIncident(severity, title, detail);
      const seconds = Math.floor(remainingMs() / 1000);
      if (seconds < 1) return 'no time left before the closure deadline for a human answer';
      const answer = (await inquiries.ask({
        task: `closure.${on}`,
        run: n,
        label: `closure: escalate ${on}`,
        tenant: input.tenant,
        input: {
          prompt: `${title}. Accept the outcome of run ${input.run_id} as delivered?`,
          assigned_to: assignedTo,
          schema: { type: 'object', required: ['accept'], properties: { accept: { type: 'boolean' }, note: { type: 'string' } } },
        },
        timeout: seconds,
        record: (kind, d) => record(kind, `closure.${on}`, d),
        flush,
      })) as { accept?: boolean; note?: string };
      return answer.accept === true ? null : `${assignedTo} did not accept${answer.note ? `: ${answer.note}` : ''}`;
    });

  const openIncident = async (severity: Severity, title: string, detail: Record<string, unknown>) => {
    await acts.openIncident({
      tenant: input.tenant,
      source: 'closure',
      source_id: input.run_id,
      severity,
      title,
      detail: { ...detail, rule: rule.id },
      attribution: {
        execution_id: input.run_id,
        workflow_ref: input.workflow_ref,
        workflow_version: input.workflow_version,
        strategy: input.strategy,
        trace_id: input.trace_id,
        ...(typeof detail.node === 'string' ? { task: detail.node } : {}),
      },
    });
  };

  const ladder = (on: FailureKind) => rule.remediation.filter((m) => m.on === on);
  const check = (c: ClosureCheck) => {
    checks.push(c);
    record('closure.check', c.node ?? null, { ...c });
  };

  // 1. mandatory nodes: each must have succeeded; a failed node may be rebuilt with its original input
  setCurrentDetails(`closure ${rule.id}: mandatory nodes`);
  for (const node of rule.mandatory_nodes) {
    const rec = tasks[node];
    if (rec?.status === 'succeeded') {
      check({ kind: 'mandatory_nodes', node, passed: true, remediated: false, severity: rule.severity.mandatory_nodes, detail: 'succeeded' });
      continue;
    }
    const knownAt = Date.now();
    const why = rec ? `${rec.status}${rec.error ? `: ${rec.error.message}` : ''}` : 'never ran';
    let passed = false;
    for (const m of ladder('node_failed')) {
      for (let n = 1; !passed && n <= m.max_attempts && remainingMs() > 0; n++) {
        if (m.do === 'rebuild') {
          passed = await remediate('node_failed', 'rebuild', node, n, knownAt, async () => {
            if (!rec || rec.input === undefined) return `node '${node}' has no recorded input to rebuild from (${why})`;
            const result = await runNode(node, rec.input, `rebuild-${n}`);
            Object.assign(rec, { status: 'succeeded', result, error: null });
            return null;
          });
        } else if (m.do === 'escalate')
          passed = await escalate('node_failed', m.assigned_to!, rule.severity.mandatory_nodes, `Mandatory node '${node}' ${why}`, { node }, knownAt, n);
      }
      if (passed) break;
    }
    check({ kind: 'mandatory_nodes', node, passed, remediated: passed, severity: rule.severity.mandatory_nodes, detail: passed ? `${why}; remediated` : why });
  }

  // 2. receipts: the callback within the timeout, then a poll, then resend
  const confirmedByPoll = new Set<string>();
  const awaitReceipt = async (node: string, token: string | undefined, timeoutS: number, statusUrl?: string): Promise<string | null> => {
    if (!token) {
      const def = input.nodes[node];
      const plugin = def ? input.actions?.[def.action]?.plugin : undefined;
      if (!plugin) return `node '${node}' produced no receipt id`;
      const st = await acts.pollPlugin({ plugin, idempotencyKey: def!.idempotency_key, tenant: input.tenant });
      return st.status === 'succeeded' ? null : `plugin '${plugin}' reports ${st.status} for node '${node}'`;
    }
    const stored = (await book.receiptStatus({ tokens: [token] }))[token];
    if (stored) callbacks.set(token, stored.result);
    if (!callbacks.has(token)) {
      setCurrentDetails(`closure ${rule.id}: waiting up to ${timeoutS}s for the receipt of '${node}'`);
      await condition(() => callbacks.has(token), Math.min(timeoutS * 1000, remainingMs()), { summary: `receipt ${node}: callback timeout` });
    }
    if (!callbacks.has(token)) {
      // poll: the stored receipts (one may have come while nobody listened), then the receiver's status URL
      const polled = (await book.receiptStatus({ tokens: [token] }))[token];
      if (polled) callbacks.set(token, polled.result);
      else if (statusUrl) {
        const st = await acts.pollReceipt({ url: statusUrl, tenant: input.tenant });
        if (st.status !== 'pending') callbacks.set(token, { status: st.status });
      }
      if (callbacks.has(token)) confirmedByPoll.add(node);
    }
    if (!callbacks.has(token)) return `no receipt for '${node}' within ${timeoutS}s (callback, then poll)`;
    const status = String((callbacks.get(token) as { status?: unknown } | null)?.status ?? 'delivered');
    return BAD_RECEIPT.has(status) ? `the receipt for '${node}' says ${status}` : null;
  };
  const receiptOf = (result: unknown) => ((result as { receipt?: { id?: unknown } } | null)?.receipt?.id as string | undefined) ?? undefined;
  const statusUrlOf = (result: unknown) => ((result as { receipt?: { status_url?: unknown } } | null)?.receipt?.status_url as string | undefined) ?? undefined;
  for (const r of rule.receipts) {
    setCurrentDetails(`closure ${rule.id}: receipt of '${r.node}'`);
    const rec = tasks[r.node];
    let problem =
      rec?.status === 'succeeded'
        ? await awaitReceipt(r.node, receiptOf(rec.result), r.timeout, statusUrlOf(rec.result))
        : `node '${r.node}' ${rec ? rec.status : 'never ran'}`;
    const first = problem;
    const knownAt = Date.now();
    for (const m of problem ? ladder('receipt_missing') : []) {
      for (let n = 1; problem && n <= m.max_attempts && remainingMs() > 0; n++) {
        if (m.do === 'resend') {
          await remediate('receipt_missing', 'resend', r.node, n, knownAt, async () => {
            if (!rec || rec.input === undefined) return `node '${r.node}' has no recorded input to resend`;
            const result = await runNode(r.node, rec.input, `resend-${n}`);
            problem = await awaitReceipt(r.node, receiptOf(result), r.timeout, statusUrlOf(result));
            return problem;
          });
        } else if (m.do === 'escalate') {
          const ok = await escalate(
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
    check({
      kind: 'receipts',
      node: r.node,
      passed: !problem,
      remediated: !problem && first !== null,
      severity: rule.severity.receipts,
      detail: problem ?? (first ? `${first}; remediated` : confirmedByPoll.has(r.node) ? 'receipt confirmed by polling' : 'receipt confirmed'),
    });
  }

  // 3. reconciliation: the rule's action, graded with its tolerance
  if (rule.reconciliation) {
    setCurrentDetails(`closure ${rule.id}: reconciliation`);
    const rc = rule.reconciliation;
    let problem: string | null;
    let detail: Record<string, unknown> = {};
    try {
      const rendered = renderDeep(rc.input, {
        parameters: input.parameters,
        vars: input.vars,
        task: tasks,
        run: { id: input.run_id, status: input.run_status, tenant: input.tenant },
      });
      const result = await runAction({
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
    for (const m of problem ? ladder('reconciliation_mismatch') : []) {
      if (m.do !== 'escalate') continue;
      if (
        await escalate(
          'reconciliation_mismatch',
          m.assigned_to!,
          rule.severity.reconciliation,
          `Reconciliation mismatch for run ${input.run_id}`,
          { problem, ...detail },
          knownAt,
          1,
        )
      )
        problem = null;
      break;
    }
    check({
      kind: 'reconciliation',
      passed: !problem,
      remediated: !problem && first !== null,
      severity: rule.severity.reconciliation,
      detail: problem ?? (first ? `${first}; accepted by a human` : 'matched'),
    });
  }

  const failing = checks.filter((c) => !c.passed);
  const verdict: Verdict = failing.length ? 'failed' : remediations.some((r) => r.outcome === 'succeeded') ? 'remediated' : 'closed';
  if (verdict === 'failed') {
    const severity = failing.map((c) => c.severity).reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'info' as Severity);
    try {
      await openIncident(severity, `Closure failed for ${input.workflow_ref} run ${input.run_id}`, {
        failing: failing.map((c) => `${c.kind}${c.node ? ` ${c.node}` : ''}: ${c.detail}`),
      });
    } catch (err) {
      record('closure.check', null, { incident: 'could not be opened', error: asTaskFailure(err).error.message });
    }
  }
  const slowest = remediations.length ? Math.max(...remediations.map((r) => r.latency_seconds)) : null;
  const rec: ClosureRecord = {
    execution_id: input.run_id,
    tenant: input.tenant,
    rule: rule.id,
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
  record('closure.verdict', null, { verdict, failing: failing.length, remediations: remediations.length });
  await flush();
  await book.recordClosure(rec);

  // the delivery report: if it cannot be written or sent now, the verdict is pending_supplement and it is retried until it is
  const request = {
    closure: rec,
    run: input.run,
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
  record('closure.supplemented', null, { verdict });
  await flush();
  await book.recordClosure({ ...rec, verdict });
  upsertSearchAttributes([{ key: SA.closure, value: verdict }]);
  return { rule: rule.id, verdict, checks };
}
