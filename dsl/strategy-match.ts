import { ExpressionError, render, renderDeep, truthy, type Scope } from './expr/index.js';
import type { Strategy } from './strategy.js';

/** The event envelope (interfaces.md), after schema validation. */
export interface EventEnvelope {
  id: string;
  type: string;
  tenant: string;
  occurred_at?: string;
  idempotency_key?: string;
  trace_id?: string;
  source?: string;
  payload: Record<string, unknown>;
}

export interface CandidateReport {
  id: string;
  version: number;
  priority: number;
  weight: number;
  matched: boolean;
  /** Conditions that were false or failed to evaluate, with why. */
  failed: { condition: string; reason: string }[];
}

export interface MatchResult {
  winner?: Strategy;
  parameters?: Record<string, unknown>;
  /** Set when the winner's parameters could not be rendered: the event goes to manual review. */
  error?: string;
  candidates: CandidateReport[];
}

/** Highest priority first, then highest weight, then smallest id (config.md). */
export const byPrecedence = (a: Strategy, b: Strategy) => b.priority - a.priority || b.weight - a.weight || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const appliesTo = (s: Strategy, tenant: string) => s.tenants.includes('*') || s.tenants.includes(tenant);

/**
 * Active strategies indexed by event type: exact types in a map, wildcard patterns grouped by
 * segment count, so a lookup touches only the strategies that could match.
 */
export class StrategyIndex {
  private readonly exact = new Map<string, Strategy[]>();
  private readonly wild = new Map<number, { segments: string[]; strategies: Strategy[] }[]>();
  readonly size: number;

  constructor(strategies: Iterable<Strategy>) {
    let n = 0;
    const patterns = new Map<string, { segments: string[]; strategies: Strategy[] }>();
    for (const s of strategies) {
      if (s.status !== 'active') continue;
      n++;
      if (!s.on.split('.').includes('*')) {
        const list = this.exact.get(s.on) ?? [];
        list.push(s);
        this.exact.set(s.on, list);
        continue;
      }
      let p = patterns.get(s.on);
      if (!p) {
        p = { segments: s.on.split('.'), strategies: [] };
        patterns.set(s.on, p);
        const group = this.wild.get(p.segments.length) ?? [];
        group.push(p);
        this.wild.set(p.segments.length, group);
      }
      p.strategies.push(s);
    }
    this.size = n;
  }

  /** Active strategies whose `on` and `tenants` fit, in precedence order. */
  candidates(type: string, tenant: string): Strategy[] {
    const out = [...(this.exact.get(type) ?? [])];
    const segs = type.split('.');
    for (const p of this.wild.get(segs.length) ?? []) {
      if (p.segments.every((seg, i) => seg === '*' || seg === segs[i])) out.push(...p.strategies);
    }
    return out.filter((s) => appliesTo(s, tenant)).sort(byPrecedence);
  }

  /** Picks the strategy for an event; with `explain`, every candidate's conditions are evaluated and reported. */
  match(event: EventEnvelope, opts: { explain?: boolean } = {}): MatchResult {
    const scope = { event } as unknown as Scope;
    const result: MatchResult = { candidates: [] };
    for (const s of this.candidates(event.type, event.tenant)) {
      const report: CandidateReport = { id: s.id, version: s.version, priority: s.priority, weight: s.weight, matched: false, failed: [] };
      result.candidates.push(report);
      for (const condition of s.when) {
        try {
          if (!truthy(render(condition, scope))) report.failed.push({ condition, reason: 'false' });
        } catch (err) {
          if (!(err instanceof ExpressionError)) throw err;
          report.failed.push({ condition, reason: err.message });
        }
        if (report.failed.length && !opts.explain) break;
      }
      report.matched = report.failed.length === 0;
      if (report.matched && !result.winner) {
        result.winner = s;
        try {
          result.parameters = renderDeep(s.parameters, scope) as Record<string, unknown>;
        } catch (err) {
          if (!(err instanceof ExpressionError)) throw err;
          result.error = `strategy '${s.id}@${s.version}': parameters failed to render: ${err.message}`;
        }
        if (!opts.explain) break;
      }
    }
    return result;
  }
}
