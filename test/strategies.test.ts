import { describe, expect, it } from 'vitest';
import { parseStrategies } from '../dsl/strategy.js';
import { StrategyIndex, type EventEnvelope } from '../dsl/strategy-match.js';
import { checkEnvelope } from '../dsl/event.js';

const LIBRARY = `
strategies:
  - id: billing.report_on_job_completed
    version: 3
    status: active
    on: plugin.job.completed
    when:
      - "{{ event.payload.job_type == 'billing' }}"
      - "{{ event.payload.status == 'ok' }}"
    priority: 10
    weight: 80
    workflow: billing.close_invoice
    parameters:
      invoice_id: "{{ event.payload.invoice_id }}"
  - id: billing.catch_all
    status: active
    on: plugin.job.*
    priority: 1
    workflow: examples.smoke_test
  - id: billing.heavier
    status: active
    on: plugin.job.completed
    tenants: [acme]
    when: ["{{ event.payload.job_type == 'billing' }}"]
    priority: 10
    weight: 90
    workflow: billing.other
  - id: billing.draft
    status: draft
    on: plugin.job.completed
    priority: 100
    workflow: billing.never
`;

const event = (over: Partial<EventEnvelope> = {}, payload: Record<string, unknown> = {}): EventEnvelope => ({
  id: 'evt_1',
  type: 'plugin.job.completed',
  tenant: 'default',
  payload: { job_type: 'billing', status: 'ok', invoice_id: 'INV-9', ...payload },
  ...over,
});

describe('strategy library', () => {
  const { strategies, diagnostics } = parseStrategies(LIBRARY);
  const index = new StrategyIndex(strategies);

  it('parses with defaults and indexes only active strategies', () => {
    expect(diagnostics).toEqual([]);
    expect(strategies.find((s) => s.id === 'billing.catch_all')).toMatchObject({ version: 1, weight: 50, tenants: ['*'], when: [] });
    expect(index.size).toBe(3);
  });

  it('picks the highest priority, then weight, and renders parameters', () => {
    const r = index.match(event());
    expect(r.winner?.id).toBe('billing.report_on_job_completed');
    expect(r.parameters).toEqual({ invoice_id: 'INV-9' });
    // for tenant acme the heavier strategy of equal priority wins
    expect(index.match(event({ tenant: 'acme' })).winner?.id).toBe('billing.heavier');
  });

  it('falls through failed conditions to a wildcard strategy, and explains why', () => {
    const r = index.match(event({}, { status: 'error' }), { explain: true });
    expect(r.winner?.id).toBe('billing.catch_all');
    const first = r.candidates.find((c) => c.id === 'billing.report_on_job_completed')!;
    expect(first.matched).toBe(false);
    expect(first.failed).toEqual([{ condition: "{{ event.payload.status == 'ok' }}", reason: 'false' }]);
  });

  it('wildcards match exactly one segment; other types miss', () => {
    expect(index.match(event({ type: 'plugin.job.started' })).winner?.id).toBe('billing.catch_all');
    expect(index.match(event({ type: 'plugin.job.completed.extra' })).winner).toBeUndefined();
    expect(index.match(event({ type: 'tenant.request.pending' })).candidates).toEqual([]);
  });

  it('reports a condition that fails to evaluate instead of throwing', () => {
    const { strategies: s2 } = parseStrategies(
      `strategies:\n  - id: a.b\n    status: active\n    on: x.y\n    when: ["{{ event.payload.missing.deeper == 1 }}"]\n    workflow: a.b\n`,
    );
    const r = new StrategyIndex(s2).match({ id: 'e', type: 'x.y', tenant: 't', payload: {} });
    expect(r.winner).toBeUndefined();
    expect(r.candidates[0]!.failed[0]!.reason).toMatch(/cannot read 'deeper'/);
  });

  it('refuses bad files with positions', () => {
    const bad = parseStrategies(`strategies:\n  - id: a.b\n    on: x.y\n    workflow: a.b\n    when: ["plain text"]\n    weight: 300\n`);
    expect(bad.strategies).toEqual([]);
    expect(bad.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual(['6:13: strategies[0].weight: must be <= 100']);
    const bad2 = parseStrategies(`strategies:\n  - id: a.b\n    on: x.y\n    workflow: a.b\n    when: ["plain text", "{{ event.( }}"]\n`);
    expect(bad2.diagnostics.map((d) => d.line)).toEqual([5, 5]);
    expect(bad2.diagnostics.map((d) => d.message).sort()).toEqual([
      expect.stringMatching(/when\[0\]: a condition must be a template/),
      expect.stringMatching(/when\[1\]: template error/),
    ]);
    const dup = parseStrategies(`strategies:\n  - { id: a.b, on: x.y, workflow: a.b }\n  - { id: a.b, on: x.z, workflow: a.b }\n`);
    expect(dup.diagnostics[0]!.message).toMatch(/defined twice/);
  });

  it('stays fast with thousands of strategies', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ ...strategies[0]!, id: `s${i}`, on: `type${i % 100}.done` }));
    const big = new StrategyIndex(many);
    expect(big.candidates('type7.done', 'default')).toHaveLength(50);
  });
});

describe('event envelope', () => {
  it('accepts the documented envelope and rejects bad ones with locations', () => {
    expect(checkEnvelope({ id: 'e', type: 'a.b', tenant: 't', payload: {}, occurred_at: '2026-11-22T10:00:00Z' }).ok).toBe(true);
    const bad = checkEnvelope({ id: 'e', type: 'a b', tenant: 't', payload: [], extra: 1 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.map((p) => p.location)).toEqual(expect.arrayContaining(['body.type', 'body.payload', 'body']));
  });
});
