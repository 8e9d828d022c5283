import schema from '../schemas/escalation.schema.json' with { type: 'json' };
import { createAjv } from './ajv.js';
import { errorAt, parseConfigYaml } from './config-file.js';
import type { Severity } from './closure-rules.js';
import type { Diagnostic } from './types.js';

export type Channel = 'email' | 'im' | 'webhook';
/** role -> where it is reached */
export type Routing = Record<string, { im?: string; webhook?: string; email?: string | string[] }>;

/** An escalation policy; incidents keep a snapshot of it from the moment they open. */
export interface EscalationPolicy {
  id: string;
  /** seconds an incident may stay open (unacknowledged) before it escalates; 0 = at once */
  ack_sla: Partial<Record<Severity, number>>;
  /** seconds from open to resolved before the incident escalates (again) */
  resolve_sla: Partial<Record<Severity, number>>;
  steps: { after: number; notify: { role: string; channel: Channel }[] }[];
  /** how many more times the steps run after the first pass while nobody acknowledges */
  repeat: number;
  /** seconds between passes (default: the last step's `after`, at least 60) */
  repeat_interval: number;
}

export interface AlertRule {
  id: string;
  expr: string;
  severity: Severity;
  policy?: string;
  description?: string;
}

export interface EscalationConfig {
  policies: EscalationPolicy[];
  alerts: AlertRule[];
  routing: Routing;
  tenants: Record<string, { routing?: Routing; policy?: string }>;
}

export const DEFAULT_POLICY: EscalationPolicy = {
  id: 'default',
  ack_sla: { critical: 0, high: 900, warning: 3600, info: 86400 },
  resolve_sla: { critical: 3600, high: 14400, warning: 86400, info: 604800 },
  steps: [],
  repeat: 0,
  repeat_interval: 300,
};

export const EMPTY_ESCALATION: EscalationConfig = { policies: [DEFAULT_POLICY], alerts: [], routing: {}, tenants: {} };

/** The measures alert expressions may use (docs/closure.md "Alerts"). */
export const ALERT_MEASURES = [
  'consecutive_closure_failures',
  'remediation_seconds_max',
  'audit_write_failures',
  'strategy_miss_rate_15m',
  'run_failure_rate_15m',
  'manual_review_open',
] as const;
export type AlertMeasure = (typeof ALERT_MEASURES)[number];
/** `<measure> <op> <number>` (the schema checks the same shape). */
const ALERT_EXPR = /^\s*([a-z_0-9]+)\s*(>=|<=|>|<|==|!=)\s*(-?[0-9.]+)\s*$/;

const ajv = createAjv();
const validate = ajv.compile(schema);

type RawPolicy = Partial<EscalationPolicy> & { id: string; steps?: { after?: number; notify: { role: string; channel?: Channel }[] }[] };

function withPolicyDefaults(p: RawPolicy): EscalationPolicy {
  const steps = (p.steps ?? []).map((s) => ({ after: s.after ?? 0, notify: s.notify.map((n) => ({ role: n.role, channel: n.channel ?? 'im' })) }));
  const last = steps.length ? Math.max(...steps.map((s) => s.after)) : 0;
  return {
    id: p.id,
    ack_sla: { ...DEFAULT_POLICY.ack_sla, ...(p.ack_sla ?? {}) },
    resolve_sla: { ...DEFAULT_POLICY.resolve_sla, ...(p.resolve_sla ?? {}) },
    steps,
    repeat: p.repeat ?? 0,
    repeat_interval: p.repeat_interval ?? Math.max(last, 60),
  };
}

/** Parses config/agent/escalation.yaml; a `default` policy always exists. */
export function parseEscalation(text: string): { config: EscalationConfig | null; diagnostics: Diagnostic[] } {
  const { value, diagnostics, src } = parseConfigYaml<{
    policies?: RawPolicy[];
    alerts?: (Partial<AlertRule> & { id: string; expr: string })[];
    routing?: Routing;
    tenants?: EscalationConfig['tenants'];
  }>(text, validate);
  if (!value) return { config: null, diagnostics };
  const policies = (value.policies ?? []).map(withPolicyDefaults);
  const ids = new Set(policies.map((p) => p.id));
  (value.alerts ?? []).forEach((a, i) => {
    if (a.policy && !ids.has(a.policy) && a.policy !== 'default') diagnostics.push(errorAt(src, ['alerts', i, 'policy'], `no escalation policy '${a.policy}'`));
    const measure = ALERT_EXPR.exec(a.expr)?.[1] ?? '';
    if (!(ALERT_MEASURES as readonly string[]).includes(measure))
      diagnostics.push(errorAt(src, ['alerts', i, 'expr'], `unknown measure '${measure}' (one of ${ALERT_MEASURES.join(', ')})`));
  });
  if (diagnostics.length) return { config: null, diagnostics };
  if (!ids.has('default')) policies.push(DEFAULT_POLICY);
  return {
    config: {
      policies,
      alerts: (value.alerts ?? []).map((a) => ({ severity: 'warning', ...a }) as AlertRule),
      routing: value.routing ?? {},
      tenants: value.tenants ?? {},
    },
    diagnostics,
  };
}

/** The policy for a tenant (or a named one), falling back to `default`. */
export function policyFor(cfg: EscalationConfig, tenant: string, name?: string): EscalationPolicy {
  const wanted = name ?? cfg.tenants[tenant]?.policy ?? 'default';
  return cfg.policies.find((p) => p.id === wanted) ?? cfg.policies.find((p) => p.id === 'default') ?? DEFAULT_POLICY;
}

/** Where a role is reached for a tenant: the tenant's routing over the global one. */
export function routeFor(cfg: EscalationConfig, tenant: string, role: string): Routing[string] | undefined {
  return cfg.tenants[tenant]?.routing?.[role] ?? cfg.routing[role];
}

/** `measure op number`: does it fire for these measures? Unknown measures never fire (the file check reports them). */
export function alertFires(expr: string, measures: Partial<Record<string, number>>): { fires: boolean; measure: string; value: number | null } {
  const m = ALERT_EXPR.exec(expr);
  if (!m) return { fires: false, measure: '', value: null };
  const [, name, op, raw] = m as unknown as [string, string, string, string];
  const value = measures[name];
  if (value === undefined || value === null) return { fires: false, measure: name, value: null };
  const limit = Number(raw);
  const fires =
    op === '>='
      ? value >= limit
      : op === '<='
        ? value <= limit
        : op === '>'
          ? value > limit
          : op === '<'
            ? value < limit
            : op === '=='
              ? value === limit
              : value !== limit;
  return { fires, measure: name, value };
}
