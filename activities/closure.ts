import { ApplicationFailure } from '@temporalio/activity';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { renderReportMarkdown, type DeliveryReport } from '../dsl/report.js';
import type { Store } from '../store/db.js';
import { auditLog, callbacks, closures, inquiries, reports, runs } from '../store/schema.js';
import { emitEvents, type Publisher } from './events-out.js';
import { countVerdict, workerMetrics } from './metrics.js';
import type { Endpoints } from './reviews.js';
import type { ClosureRecord, NotifyInput, NotifyResult, ReportRequest } from './types.js';

export interface ClosureDeps {
  store: Store;
  endpoints: () => Endpoints;
  publish?: Publisher;
  notify: (input: NotifyInput) => Promise<NotifyResult>;
  /** Which channels reach a role (the report goes to each audience on its first routed channel). */
  channelsOf?: (tenant: string, role: string) => ('im' | 'webhook' | 'email')[];
}

const iso = (t: string | null | undefined) => (t ? new Date(t).toISOString() : null);

/** Closure bookkeeping: receipts, verdicts, delivery reports. */
export function closureActivities(deps: ClosureDeps) {
  const { db } = deps.store;
  return {
    /** Receipts that have arrived, by token (the closure also polls this after its wait). */
    async receiptStatus(input: { tokens: string[] }): Promise<Record<string, { received_at: string; result: unknown } | null>> {
      if (!input.tokens.length) return {};
      const rows = await db.select().from(callbacks).where(inArray(callbacks.token, input.tokens));
      return Object.fromEntries(
        input.tokens.map((t) => {
          const r = rows.find((x) => x.token === t);
          return [t, r?.receivedAt ? { received_at: iso(r.receivedAt)!, result: r.result ?? null } : null];
        }),
      );
    },

    /** Stores the verdict with its checks and remediations; puts it on the run; emits the failure event once. */
    async recordClosure(rec: ClosureRecord): Promise<void> {
      const values = {
        executionId: rec.execution_id,
        tenant: rec.tenant,
        rule: rec.rule,
        verdict: rec.verdict,
        checks: rec.checks,
        remediations: rec.remediations,
        graphEndedAt: rec.graph_ended_at,
        verdictAt: rec.verdict_at,
        remediationSeconds: rec.remediation_seconds,
      };
      const [before] = await db.select({ verdict: closures.verdict }).from(closures).where(eq(closures.executionId, rec.execution_id));
      await db
        .insert(closures)
        .values(values)
        .onConflictDoUpdate({ target: closures.executionId, set: { ...values, updatedAt: sql`now()` } });
      const [run] = await db.select({ summary: runs.summary }).from(runs).where(eq(runs.executionId, rec.execution_id));
      const closure = { rule: rec.rule, verdict: rec.verdict, checks: rec.checks };
      await db
        .update(runs)
        .set({ closure: rec.verdict, ...(run?.summary ? { summary: { ...(run.summary as object), closure } } : {}), updatedAt: sql`now()` })
        .where(eq(runs.executionId, rec.execution_id));
      if (before?.verdict === rec.verdict) return; // a retried write counts and emits nothing twice
      countVerdict(rec.verdict);
      const m = workerMetrics();
      const workflow = rec.workflow_ref;
      m.closures.add(1, { tenant: rec.tenant, workflow, verdict: rec.verdict });
      for (const r of rec.remediations) {
        m.remediations.add(1, { tenant: rec.tenant, workflow, kind: r.do, outcome: r.outcome });
        m.remediationLatency.record(r.latency_seconds, { tenant: rec.tenant, workflow, kind: r.do });
      }
      if (rec.verdict === 'failed') {
        await emitEvents(deps.store, deps.publish, [
          {
            key: `closure-failed:${rec.execution_id}`,
            tenant: rec.tenant,
            type: 'agent.workflow.closure.failed',
            payload: {
              execution_id: rec.execution_id,
              rule: rec.rule,
              workflow: rec.workflow_ref,
              version: rec.workflow_version,
              checks: rec.checks.filter((c) => !c.passed),
              trace_id: rec.trace_id ?? null,
            },
          },
        ]);
      }
    },

    /**
     * Builds the delivery report from the database (run, audit, inquiries) and the closure, stores it,
     * sends it to the audit endpoint and the rule's audiences. Throws (and is retried) until all of it succeeded.
     */
    async writeReport(input: ReportRequest): Promise<{ stored: true; audit: 'sent' | 'not configured' | 'off'; notified: string[] }> {
      const rec = input.closure;
      const [run] = await db.select().from(runs).where(eq(runs.executionId, rec.execution_id));
      const ids = [rec.execution_id, `closure:${rec.execution_id}`];
      const audit = await db.select().from(auditLog).where(inArray(auditLog.executionId, ids)).orderBy(asc(auditLog.at), asc(auditLog.seq));
      const inq = await db
        .select()
        .from(inquiries)
        .where(and(eq(inquiries.tenant, rec.tenant), inArray(inquiries.executionId, ids)));
      const report: DeliveryReport = {
        execution_id: rec.execution_id,
        tenant: rec.tenant,
        workflow: { ref: rec.workflow_ref, version: rec.workflow_version },
        strategy: rec.strategy ?? null,
        trace_id: rec.trace_id ?? null,
        run: run?.summary ?? input.run ?? null,
        closure: {
          rule: rec.rule,
          verdict: input.final_verdict ?? rec.verdict,
          checks: rec.checks,
          remediations: rec.remediations,
          graph_ended_at: rec.graph_ended_at,
          verdict_at: rec.verdict_at,
          remediation_seconds: rec.remediation_seconds,
        },
        inquiries: inq.map((i) => ({
          id: i.id,
          task: i.task,
          prompt: i.prompt,
          assigned_to: i.assignedTo,
          status: i.status,
          response: i.response,
          responded_by: i.respondedBy,
        })),
        audit: audit.map((a) => ({
          execution_id: a.executionId,
          seq: a.seq,
          kind: a.kind,
          task: a.task,
          at: iso(a.at)!,
          detail: a.detail as Record<string, unknown>,
        })),
        generated_at: new Date().toISOString(),
      };
      const markdown = renderReportMarkdown(report);
      await db
        .insert(reports)
        .values({ executionId: rec.execution_id, tenant: rec.tenant, report, markdown })
        .onConflictDoUpdate({ target: reports.executionId, set: { report, markdown } });
      let auditState: 'sent' | 'not configured' | 'off' = 'off';
      if (input.audit) {
        const url = deps.endpoints().auditReport;
        auditState = 'not configured';
        if (url) {
          let res: Response;
          try {
            res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'idempotency-key': `report:${rec.execution_id}` },
              body: JSON.stringify(report),
              signal: AbortSignal.timeout(30_000),
            });
          } catch (err) {
            throw ApplicationFailure.retryable(
              `POST ${url}: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`,
              'AuditEndpointUnavailable',
            );
          }
          await res.body?.cancel();
          if (!res.ok) throw ApplicationFailure.retryable(`POST ${url}: HTTP ${res.status}`, 'AuditEndpointRefused');
          await db
            .update(reports)
            .set({ auditSentAt: sql`now()` })
            .where(eq(reports.executionId, rec.execution_id));
          auditState = 'sent';
        }
      }
      const notified: string[] = [];
      for (const role of input.notify) {
        try {
          const channel = input.channel ?? deps.channelsOf?.(rec.tenant, role)[0] ?? 'im';
          await deps.notify({
            channel,
            to: [role],
            subject: `Delivery report ${rec.execution_id}: ${report.closure.verdict}`,
            message: markdown,
            tenant: rec.tenant,
            executionId: `closure:${rec.execution_id}`,
            task: 'report',
            receiptToken: crypto.randomUUID(),
            idempotencyKey: `report:${rec.execution_id}:${role}`,
          });
          notified.push(role);
        } catch (err) {
          // an audience nobody can reach is noted, not retried forever; a delivery failure is retried
          if (err instanceof ApplicationFailure && err.nonRetryable && /no \w+ route/.test(err.message)) notified.push(`${role}: ${err.message}`);
          else throw ApplicationFailure.retryable((err as Error).message, 'ReportDeliveryFailed');
        }
      }
      return { stored: true, audit: auditState, notified };
    },
  };
}
