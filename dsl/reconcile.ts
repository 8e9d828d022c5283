/** A value that differs between what was expected and what was observed. */
export interface Difference {
  path: string;
  expected: unknown;
  observed: unknown;
  /** observed - expected, for numbers */
  difference?: number;
}

const MAX_DIFFERENCES = 100;

/**
 * `core.reconcile` and closure reconciliation: compares two values deeply; numbers match within the
 * absolute `tolerance`, everything else must be equal. Pure, so it runs inside the workflow.
 */
export function reconcile(expected: unknown, observed: unknown, tolerance = 0): { matched: boolean; differences: Difference[] } {
  const differences: Difference[] = [];
  const walk = (e: unknown, o: unknown, path: string, depth: number): void => {
    if (differences.length >= MAX_DIFFERENCES) return;
    if (typeof e === 'number' && typeof o === 'number') {
      const d = o - e;
      if (!(Math.abs(d) <= tolerance + 1e-12)) differences.push({ path: path || '.', expected: e, observed: o, difference: Number(d.toFixed(12)) });
      return;
    }
    if (depth < 64 && e && o && typeof e === 'object' && typeof o === 'object' && Array.isArray(e) === Array.isArray(o)) {
      const keys = Array.isArray(e)
        ? [...Array(Math.max(e.length, (o as unknown[]).length)).keys()].map(String)
        : [...new Set([...Object.keys(e), ...Object.keys(o)])];
      for (const k of keys)
        walk((e as Record<string, unknown>)[k], (o as Record<string, unknown>)[k], Array.isArray(e) ? `${path}[${k}]` : path ? `${path}.${k}` : k, depth + 1);
      return;
    }
    if (JSON.stringify(e) !== JSON.stringify(o)) differences.push({ path: path || '.', expected: e ?? null, observed: o ?? null });
  };
  walk(expected, observed, '', 0);
  return { matched: differences.length === 0, differences };
}

/**
 * Grades a reconciliation action's result: `matched: true` passes; a numeric `difference` passes
 * within tolerance; `expected`/`observed` are compared with `reconcile`.
 */
export function gradeReconciliation(result: unknown, tolerance: number): { matched: boolean; differences: Difference[]; reason: string } {
  const r = (result ?? {}) as { matched?: unknown; difference?: unknown; expected?: unknown; observed?: unknown; differences?: unknown };
  if (typeof r.difference === 'number') {
    const ok = Math.abs(r.difference) <= tolerance + 1e-12;
    return {
      matched: ok,
      differences: ok ? [] : [{ path: 'difference', expected: 0, observed: r.difference, difference: r.difference }],
      reason: ok ? `difference ${r.difference} within tolerance ${tolerance}` : `difference ${r.difference} exceeds tolerance ${tolerance}`,
    };
  }
  if ('expected' in r && 'observed' in r) {
    const c = reconcile(r.expected, r.observed, tolerance);
    return {
      ...c,
      reason: c.matched ? `expected and observed agree within ${tolerance}` : `${c.differences.length} difference(s) beyond tolerance ${tolerance}`,
    };
  }
  if (r.matched === true) return { matched: true, differences: [], reason: 'matched: true' };
  const differences = Array.isArray(r.differences) ? (r.differences as Difference[]) : [];
  const listed = differences
    .slice(0, 3)
    .map((d) => `${d.path} expected ${JSON.stringify(d.expected)}, observed ${JSON.stringify(d.observed)}`)
    .join('; ');
  return {
    matched: false,
    differences,
    reason: r.matched === false ? listed || 'matched: false' : "the result has no 'matched', 'difference' or 'expected'/'observed'",
  };
}
