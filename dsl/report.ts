import type { ClosureCheck, RemediationRecord } from './closure-rules.js';

/** The delivery report of a run with a closure (`GET /v1/reports/{execution_id}`). */
export interface DeliveryReport {
  execution_id: string;
  tenant: string;
  workflow: { ref: string; version: string };
  strategy: string | null;
  trace_id: string | null;
  run: unknown;
  closure: {
    rule: string;
    verdict: string;
    checks: ClosureCheck[];
    remediations: RemediationRecord[];
    graph_ended_at: string;
    verdict_at: string;
    remediation_seconds: number | null;
  };
  inquiries: { id: string; task: string; prompt: string; assigned_to: string | null; status: string; response: unknown; responded_by: string | null }[];
  audit: { execution_id: string; seq: number; kind: string; task: string | null; at: string; detail: Record<string, unknown> }[];
  generated_at: string;
}

interface RunLike {
  status?: string;
  started_at?: string;
  ended_at?: string | null;
  error?: { message?: string } | null;
  tasks?: { name: string; status: string; runs: number; attempts: number; error?: { message?: string } | null }[];
}

const cell = (v: unknown) =>
  String(v ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
const json = (v: unknown) => (v === undefined || v === null ? '' : '`' + JSON.stringify(v).replace(/`/g, "'").slice(0, 120) + '`');

/** Markdown an auditor can read: the run, each task and attempt, inquiries, checks, remediations, timings, trace id. */
export function renderReportMarkdown(r: DeliveryReport): string {
  const run = (r.run ?? {}) as RunLike;
  const out: string[] = [];
  out.push(`# Delivery report: ${r.execution_id}`, '');
  out.push(`- **Verdict:** ${r.closure.verdict} (rule \`${r.closure.rule}\`)`);
  out.push(`- **Workflow:** ${r.workflow.ref}@${r.workflow.version}${r.strategy ? ` (strategy \`${r.strategy}\`)` : ''}`);
  out.push(`- **Tenant:** ${r.tenant}`);
  out.push(
    `- **Run:** ${run.status ?? 'unknown'}, started ${run.started_at ?? '?'}, ended ${run.ended_at ?? '?'}${run.error?.message ? ` — ${run.error.message}` : ''}`,
  );
  out.push(`- **Graph ended:** ${r.closure.graph_ended_at}; **verdict at:** ${r.closure.verdict_at}`);
  if (r.closure.remediation_seconds !== null)
    out.push(`- **Slowest remediation start:** ${r.closure.remediation_seconds.toFixed(3)} s after the failure was known`);
  out.push(`- **Trace id:** ${r.trace_id ?? '—'}`, '');
  out.push('## Tasks', '', '| task | status | runs | attempts | error |', '| --- | --- | --- | --- | --- |');
  for (const t of run.tasks ?? []) out.push(`| ${cell(t.name)} | ${t.status} | ${t.runs} | ${t.attempts} | ${cell(t.error?.message)} |`);
  const attempts = r.audit.filter((a) => a.kind === 'task.attempt');
  if (attempts.length) {
    out.push('', '### Attempts', '', '| at | task | attempt | status | error |', '| --- | --- | --- | --- | --- |');
    for (const a of attempts)
      out.push(
        `| ${a.at} | ${cell(a.task)} | ${cell(a.detail.attempt)} | ${cell(a.detail.status)} | ${cell((a.detail.error as { message?: string } | undefined)?.message)} |`,
      );
  }
  out.push('', '## Closure checks', '', '| check | node | result | severity | detail |', '| --- | --- | --- | --- | --- |');
  for (const c of r.closure.checks)
    out.push(
      `| ${c.kind} | ${cell(c.node)} | ${c.passed ? (c.remediated ? 'passed after remediation' : 'passed') : '**failed**'} | ${c.severity} | ${cell(c.detail)} |`,
    );
  out.push('', '## Remediations', '');
  if (!r.closure.remediations.length) out.push('None were needed.');
  else {
    out.push('| on | do | node | attempt | started | latency (s) | outcome | detail |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const m of r.closure.remediations)
      out.push(`| ${m.on} | ${m.do} | ${cell(m.node)} | ${m.attempt} | ${m.started_at} | ${m.latency_seconds.toFixed(3)} | ${m.outcome} | ${cell(m.detail)} |`);
  }
  out.push('', '## Inquiries', '');
  if (!r.inquiries.length) out.push('None.');
  else {
    out.push('| inquiry | assigned to | status | answered by | response |', '| --- | --- | --- | --- | --- |');
    for (const i of r.inquiries) out.push(`| ${cell(i.id)} | ${cell(i.assigned_to)} | ${i.status} | ${cell(i.responded_by)} | ${json(i.response)} |`);
  }
  out.push('', '## Audit trail', '', `${r.audit.length} records.`, '', '| at | source | seq | kind | task | detail |', '| --- | --- | --- | --- | --- | --- |');
  for (const a of r.audit)
    out.push(`| ${a.at} | ${a.execution_id.startsWith('closure:') ? 'closure' : 'run'} | ${a.seq} | ${a.kind} | ${cell(a.task)} | ${cell(json(a.detail))} |`);
  out.push('', `_Generated ${r.generated_at}._`, '');
  return out.join('\n');
}
