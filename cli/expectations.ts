import type { RunSummary } from '../contracts/run.js';

export interface Expectation {
  status?: string;
  ran?: string[];
  not_ran?: string[];
  output?: unknown;
  tasks?: Record<string, Record<string, unknown>>;
  error?: Record<string, unknown>;
}

/** Where `actual` differs from `expected`, treating maps as subsets (extra keys in actual are fine). */
export function subsetMismatches(expected: unknown, actual: unknown, path: string): string[] {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: expected a map, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) => subsetMismatches(v, (actual as Record<string, unknown>)[k], `${path}.${k}`));
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
    return expected.flatMap((v, i) => subsetMismatches(v, actual[i], `${path}[${i}]`));
  }
  return JSON.stringify(expected) === JSON.stringify(actual) ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/** Every way a run summary misses the case's expectations (empty: the case passes). */
export function checkExpectations(expect: Expectation, s: RunSummary): string[] {
  const problems: string[] = [];
  const ran = new Set(s.tasks.filter((t) => t.status !== 'skipped').map((t) => t.name));
  if (expect.status !== undefined && expect.status !== s.status)
    problems.push(`status: expected ${expect.status}, got ${s.status}${s.error ? ` (${s.error.message})` : ''}`);
  for (const t of expect.ran ?? []) if (!ran.has(t)) problems.push(`ran: task '${t}' did not run`);
  for (const t of expect.not_ran ?? []) if (ran.has(t)) problems.push(`not_ran: task '${t}' ran`);
  if (expect.output !== undefined) problems.push(...subsetMismatches(expect.output, s.output, 'output'));
  if (expect.error !== undefined) problems.push(...subsetMismatches(expect.error, s.error, 'error'));
  for (const [name, exp] of Object.entries(expect.tasks ?? {})) {
    const task = s.tasks.find((t) => t.name === name);
    if (!task) problems.push(`tasks.${name}: did not run`);
    else problems.push(...subsetMismatches(exp, task, `tasks.${name}`));
  }
  return problems;
}
