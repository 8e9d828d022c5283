import schema from '../schemas/closure-rules.schema.json' with { type: 'json' };
import { createAjv } from './ajv.js';
import { errorAt, parseConfigYaml } from './config-file.js';
import { checkTemplates } from './templates-check.js';
import type { Diagnostic } from './types.js';

export type Severity = 'critical' | 'high' | 'warning' | 'info';
export type CheckKind = 'mandatory_nodes' | 'receipts' | 'reconciliation';
export type FailureKind = 'node_failed' | 'receipt_missing' | 'reconciliation_mismatch';

export type Verdict = 'closed' | 'remediated' | 'failed' | 'pending_supplement';

/** One graded closure check. */
export interface ClosureCheck {
  kind: CheckKind;
  node?: string;
  passed: boolean;
  severity: Severity;
  /** true when it passed only after a remediation */
  remediated: boolean;
  detail: string;
}

/** One remediation attempt, with how long after the failure was known it started. */
export interface RemediationRecord {
  on: FailureKind;
  do: 'resend' | 'rebuild' | 'escalate';
  node?: string;
  attempt: number;
  failure_known_at: string;
  started_at: string;
  latency_seconds: number;
  outcome: 'succeeded' | 'failed';
  detail: string;
}

/** A closure rule (config.md "Closure rules"), defaults filled in; it travels in workflow input as a snapshot. */
export interface ClosureRule {
  id: string;
  description?: string;
  mandatory_nodes: string[];
  receipts: { node: string; timeout: number }[];
  reconciliation?: { action: string; input: Record<string, unknown>; tolerance: number; timeout?: number };
  severity: Record<CheckKind, Severity>;
  remediation: { on: FailureKind; do: 'resend' | 'rebuild' | 'escalate'; max_attempts: number; assigned_to?: string }[];
  /** seconds from the end of the graph to a verdict */
  deadline: number;
  report: { notify: string[]; audit: boolean; channel?: 'email' | 'im' | 'webhook' };
}

export const DEFAULT_RECEIPT_TIMEOUT = 120;
export const DEFAULT_CLOSURE_DEADLINE = 120;

const ajv = createAjv();
const validate = ajv.compile(schema);

type RawRule = Partial<Omit<ClosureRule, 'receipts' | 'reconciliation' | 'remediation' | 'severity'>> & {
  id: string;
  receipts?: { node: string; timeout?: number }[];
  reconciliation?: { action: string; input?: Record<string, unknown>; tolerance?: number; timeout?: number };
  remediation?: { on: FailureKind; do: 'resend' | 'rebuild' | 'escalate'; max_attempts?: number; assigned_to?: string }[];
  severity?: Partial<Record<CheckKind, Severity>>;
};

export function withRuleDefaults(r: RawRule): ClosureRule {
  return {
    id: r.id,
    ...(r.description ? { description: r.description } : {}),
    mandatory_nodes: r.mandatory_nodes ?? [],
    receipts: (r.receipts ?? []).map((x) => ({ node: x.node, timeout: x.timeout ?? DEFAULT_RECEIPT_TIMEOUT })),
    ...(r.reconciliation
      ? {
          reconciliation: {
            action: r.reconciliation.action,
            input: r.reconciliation.input ?? {},
            tolerance: r.reconciliation.tolerance ?? 0,
            ...(r.reconciliation.timeout ? { timeout: r.reconciliation.timeout } : {}),
          },
        }
      : {}),
    severity: { mandatory_nodes: 'critical', receipts: 'warning', reconciliation: 'critical', ...(r.severity ?? {}) },
    remediation: (r.remediation ?? []).map((m) => ({
      on: m.on,
      do: m.do,
      max_attempts: m.max_attempts ?? (m.do === 'resend' ? 3 : 1),
      ...(m.assigned_to ? { assigned_to: m.assigned_to } : {}),
    })),
    deadline: r.deadline ?? DEFAULT_CLOSURE_DEADLINE,
    report: { notify: r.report?.notify ?? [], audit: r.report?.audit ?? true, ...(r.report?.channel ? { channel: r.report.channel } : {}) },
  };
}

/** Parses config/agent/closure_rules.yaml; any error refuses the whole file (the previous rules stay). */
export function parseClosureRules(text: string): { rules: ClosureRule[]; diagnostics: Diagnostic[] } {
  const { value, diagnostics, src } = parseConfigYaml<{ rules: RawRule[] }>(text, validate);
  if (!value) return { rules: [], diagnostics };
  const seen = new Set<string>();
  value.rules.forEach((r, i) => {
    if (seen.has(r.id)) diagnostics.push(errorAt(src, ['rules', i, 'id'], `closure rule '${r.id}' is defined twice`));
    seen.add(r.id);
    if (r.reconciliation?.input) checkTemplates(r.reconciliation.input, ['rules', i, 'reconciliation', 'input'], src, diagnostics);
    (r.remediation ?? []).forEach((m, j) => {
      const fits = { receipt_missing: ['resend', 'escalate'], node_failed: ['rebuild', 'escalate'], reconciliation_mismatch: ['escalate'] }[m.on];
      if (!fits.includes(m.do))
        diagnostics.push(errorAt(src, ['rules', i, 'remediation', j, 'do'], `'${m.do}' does not remedy '${m.on}' (use one of ${fits.join(', ')})`));
      if (m.do === 'escalate' && !m.assigned_to)
        diagnostics.push(errorAt(src, ['rules', i, 'remediation', j], "escalate needs 'assigned_to' (who answers the inquiry)"));
    });
  });
  if (diagnostics.some((d) => d.severity === 'error')) return { rules: [], diagnostics };
  return { rules: value.rules.map(withRuleDefaults), diagnostics };
}
