// What every check of a closure shares: the run's task records, the audit rows, callbacks and
// inquiries, and the ways to act (run a node again, escalate to a person, open an incident).
import { proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { FailureKind, Severity } from '../../dsl/closure-rules.js';
import type { AuditRow } from '../../contracts/audit.js';
import type { ClosureInput } from '../../contracts/closure.js';
import { BOOKKEEPING, CLOSURE_ACTION } from '../../contracts/activity-options.js';
import { callbackSignal } from '../../contracts/definitions.js';
import type { ClosureCheck, CoreActivities, RemediationRecord } from '../../activities/types.js';
import { TaskFailure, asTaskFailure, type AttemptContext } from '../actions.js';
import { InquiryBook } from '../inquiries.js';
import { runAnyAction } from '../pack-actions.js';
import { FAILURE } from '../../contracts/failures.js';

export const acts = proxyActivities<CoreActivities>(CLOSURE_ACTION);
// database bookkeeping as local activities (a marker each, no task-queue round trip), as the run's own audit
export const book = proxyLocalActivities<CoreActivities>({ ...BOOKKEEPING, summary: 'closure bookkeeping' });

export class ClosureRun {
  readonly id = workflowInfo().workflowId;
  readonly rule: ClosureInput['rule'];
  readonly deadlineAt: number;
  readonly tasks: ClosureInput['tasks'];
  readonly checks: ClosureCheck[] = [];
  readonly remediations: RemediationRecord[] = [];
  /** `callback` signals by token: asynchronous plugin results of re-run nodes, and delivery receipts. */
  readonly callbacks = new Map<string, unknown>();
  readonly inquiries = new InquiryBook();
  private readonly audit: AuditRow[] = [];
  private seq = 0;

  constructor(readonly input: ClosureInput) {
    this.rule = input.rule;
    this.deadlineAt = Date.parse(input.graph_ended_at) + input.rule.deadline * 1000;
    this.tasks = JSON.parse(JSON.stringify(input.tasks)) as ClosureInput['tasks'];
    setHandler(callbackSignal, (c) => {
      if (c && typeof c.token === 'string') this.callbacks.set(c.token, c.result);
    });
    this.inquiries.listen((r, problems) => this.record('inquiry.rejected', null, { inquiry_id: r?.inquiry_id ?? null, problems }));
  }

  remainingMs(): number {
    return Math.max(0, this.deadlineAt - Date.now());
  }

  record(kind: AuditRow['kind'], task: string | null, detail: Record<string, unknown>): void {
    this.audit.push({ execution_id: this.id, tenant: this.input.tenant, seq: ++this.seq, kind, task, detail, at: new Date().toISOString() });
  }

  readonly flush = async (): Promise<void> => {
    const rows = this.audit.splice(0);
    if (rows.length) await book.recordAudit(rows);
  };

  check(c: ClosureCheck): void {
    this.checks.push(c);
    this.record('closure.check', c.node ?? null, { ...c });
  }

  ladder(on: FailureKind) {
    return this.rule.remediation.filter((m) => m.on === on);
  }

  /** Runs an action for the closure, under the run's permissions, with an idempotency key of its own. */
  runAction(a: { task: string; label: string; ref: string; input: unknown; timeout?: number; key: string }): Promise<unknown> {
    const { input } = this;
    const ctx: AttemptContext = {
      task: a.task,
      label: a.label,
      ref: a.ref,
      input: a.input,
      attempt: 1,
      ...(a.timeout !== undefined ? { timeout: a.timeout } : {}),
      idempotencyKey: a.key,
      tenant: input.tenant,
      executionId: this.id,
      ...(input.trace_id ? { traceId: input.trace_id } : {}),
      ...(input.permissions ? { permissions: input.permissions } : {}),
      ...(input.strategy ? { strategy: input.strategy } : {}),
    };
    return runAnyAction(ctx, input.actions, input.pack_config, this.callbacks);
  }

  /** Runs a node of the run again (rebuild, resend) with its original input and a new idempotency key. */
  async runNode(node: string, nodeInput: unknown, purpose: string): Promise<unknown> {
    const def = this.input.nodes[node];
    if (!def) throw new TaskFailure({ type: FAILURE.closure, message: `node '${node}' is not a task of ${this.input.workflow_ref}` });
    return this.runAction({
      task: node,
      label: `closure: ${purpose} ${node}`,
      ref: def.action,
      input: nodeInput,
      ...(def.timeout !== undefined ? { timeout: def.timeout } : {}),
      key: `${this.input.run_id}:${node}:closure:${purpose}`,
    });
  }

  /** Runs one remediation step and records when it started relative to when the failure was known. */
  async remediate(
    on: FailureKind,
    what: RemediationRecord['do'],
    node: string | undefined,
    attempt: number,
    knownAt: number,
    act: () => Promise<string | null>,
  ): Promise<boolean> {
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
    this.remediations.push(rec);
    this.record('closure.remediation', node ?? null, { ...rec });
    return outcome === 'succeeded';
  }

  /** escalate: an incident plus a human inquiry to `assigned_to`; accepted when they answer accept: true in time. */
  escalate(
    on: FailureKind,
    assignedTo: string,
    severity: Severity,
    title: string,
    detail: Record<string, unknown>,
    knownAt: number,
    n: number,
  ): Promise<boolean> {
    return this.remediate(on, 'escalate', typeof detail.node === 'string' ? detail.node : undefined, n, knownAt, async () => {
      await this.openIncident(severity, title, detail);
      const seconds = Math.floor(this.remainingMs() / 1000);
      if (seconds < 1) return 'no time left before the closure deadline for a human answer';
      const answer = (await this.inquiries.ask({
        task: `closure.${on}`,
        run: n,
        label: `closure: escalate ${on}`,
        tenant: this.input.tenant,
        input: {
          prompt: `${title}. Accept the outcome of run ${this.input.run_id} as delivered?`,
          assigned_to: assignedTo,
          schema: { type: 'object', required: ['accept'], properties: { accept: { type: 'boolean' }, note: { type: 'string' } } },
        },
        timeout: seconds,
        record: (kind, d) => this.record(kind, `closure.${on}`, d),
        flush: this.flush,
      })) as { accept?: boolean; note?: string };
      return answer.accept === true ? null : `${assignedTo} did not accept${answer.note ? `: ${answer.note}` : ''}`;
    });
  }

  async openIncident(severity: Severity, title: string, detail: Record<string, unknown>): Promise<void> {
    const { input } = this;
    await acts.openIncident({
      tenant: input.tenant,
      source: 'closure',
      source_id: input.run_id,
      severity,
      title,
      detail: { ...detail, rule: this.rule.id },
      attribution: {
        execution_id: input.run_id,
        workflow_ref: input.workflow_ref,
        workflow_version: input.workflow_version,
        strategy: input.strategy,
        trace_id: input.trace_id,
        ...(typeof detail.node === 'string' ? { task: detail.node } : {}),
      },
    });
  }
}
