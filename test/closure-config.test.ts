import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseClosureRules } from '../dsl/closure-rules.js';
import { parseEscalation, policyFor, routeFor } from '../dsl/escalation.js';
import { gradeReconciliation, reconcile } from '../dsl/reconcile.js';

describe('closure rules and escalation files', () => {
  it('the shipped files are valid', async () => {
    const rules = parseClosureRules(await readFile('config/agent/closure_rules.yaml', 'utf8'));
    expect(rules.diagnostics).toEqual([]);
    expect(rules.rules[0]).toMatchObject({
      id: 'billing.delivery',
      receipts: [{ node: 'notify_customer', timeout: 120 }],
      remediation: [
        { do: 'resend', max_attempts: 3 },
        { do: 'rebuild', max_attempts: 1 },
        { do: 'escalate', assigned_to: 'finance.approver' },
      ],
    });
    const esc = parseEscalation(await readFile('config/agent/escalation.yaml', 'utf8'));
    expect(esc.diagnostics).toEqual([]);
    expect(policyFor(esc.config!, 'acme')).toMatchObject({ id: 'default', repeat: 2, repeat_interval: 300 });
    expect(routeFor(esc.config!, 'acme', 'runtime.operator')).toMatchObject({ email: ['oncall@example.com'] });
  });

  it('refuses a bad rule with file positions: a remedy that does not fit, escalate without an assignee, an unknown field, a broken template', () => {
    const { rules, diagnostics } = parseClosureRules(`rules:
  - id: r1
    reconciliation: { action: core.reconcile, input: { x: "{{ parameters. }}" } }
    remediation:
      - on: reconciliation_mismatch
        do: resend
      - on: node_failed
        do: escalate
`);
    expect(rules).toEqual([]);
    const text = diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
    expect(text).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^6:\d+: .*'resend' does not remedy 'reconciliation_mismatch'/),
        expect.stringMatching(/^7:\d+: .*escalate needs 'assigned_to'/),
        expect.stringMatching(/^3:\d+: /),
      ]),
    );
    // rebuild re-runs a node: it cannot remedy a reconciliation, and is refused rather than ignored
    const rebuild = parseClosureRules('rules:\n  - id: r3\n    remediation:\n      - on: reconciliation_mismatch\n        do: rebuild\n');
    expect(rebuild.diagnostics[0]).toMatchObject({
      line: 5,
      message: expect.stringContaining("'rebuild' does not remedy 'reconciliation_mismatch' (use one of escalate)"),
    });
    const unknown = parseClosureRules('rules:\n  - id: r2\n    deadlin: 5\n');
    expect(unknown.diagnostics[0]).toMatchObject({ line: 2, message: expect.stringContaining("unknown field 'deadlin'") });
  });

  it('refuses an alert naming a policy that does not exist', () => {
    const r = parseEscalation('alerts:\n  - id: a\n    expr: x > 1\n    policy: nightly\n');
    expect(r.config).toBeNull();
    expect(r.diagnostics[0]).toMatchObject({ line: 4, message: expect.stringContaining("no escalation policy 'nightly'") });
  });
});

describe('core.reconcile', () => {
  it('matches numbers within the tolerance and lists every difference beyond it', () => {
    expect(reconcile({ total: 100, lines: [1, 2] }, { total: 100.004, lines: [1, 2] }, 0.01)).toEqual({ matched: true, differences: [] });
    expect(reconcile({ total: 100, currency: 'EUR', lines: [1] }, { total: 97.5, currency: 'USD', lines: [1, 2] }, 0.01).differences).toEqual([
      { path: 'total', expected: 100, observed: 97.5, difference: -2.5 },
      { path: 'currency', expected: 'EUR', observed: 'USD' },
      { path: 'lines[1]', expected: null, observed: 2 },
    ]);
    expect(gradeReconciliation({ difference: 0.005 }, 0.01).matched).toBe(true);
    expect(gradeReconciliation({ matched: false }, 0.01).matched).toBe(false);
    expect(gradeReconciliation({ expected: 1, observed: 1.5 }, 0.1)).toMatchObject({ matched: false, differences: [{ path: '.', difference: 0.5 }] });
  });
});
