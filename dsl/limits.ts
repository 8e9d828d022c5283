// Operator limits and the rule that a workflow file may only lower them (dsl.md "Limits"). Pure: the
// workflow bundle may import it (config/limits.yaml is parsed by dsl/limits-file.ts).
import { DEFAULT_WORKFLOW_LIMITS, type Limits } from './types.js';

export const LIMIT_KEYS = Object.keys(DEFAULT_WORKFLOW_LIMITS) as (keyof Limits)[];

/** The keys of a workflow file's `limits` that go above the operator's, with what to do about it. */
export function limitsAboveOperator(file: Partial<Limits>, operator: Limits): { key: keyof Limits; message: string }[] {
  return LIMIT_KEYS.filter((k) => file[k] !== undefined && file[k]! > operator[k]).map((k) => ({
    key: k,
    message: `${file[k]} is above the operator's limit of ${operator[k]}: a workflow may only lower a limit (an operator raises it in config/limits.yaml)`,
  }));
}

/** A stored workflow's limits under the operator's current ones (a lowered operator limit applies to new runs of old registrations). */
export function clampLimits(limits: Limits, operator: Limits): Limits {
  return Object.fromEntries(LIMIT_KEYS.map((k) => [k, Math.min(limits[k], operator[k])])) as unknown as Limits;
}
