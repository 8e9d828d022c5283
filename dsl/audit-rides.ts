// Audit rows that ride on a task's activity (docs/decisions.md "Audit rows ride on activities").

/** The key an activity sets in its result envelope or failure details once it has written the rows it carried. */
export const AUDIT_KEY = 'closeloop_audit';

/** Rows carried by one activity at most: past this (or in bytes), the workflow writes them itself. */
export const MAX_CARRIED_ROWS = 200;
export const MAX_CARRIED_BYTES = 64 * 1024;

/** A result envelope `{closeloop_audit: 'written', value}`: the value, or undefined when `result` is not one. */
export function unwrapWritten(result: unknown): { value: unknown } | undefined {
  if (result === null || typeof result !== 'object' || (result as Record<string, unknown>)[AUDIT_KEY] !== 'written') return undefined;
  return { value: (result as { value?: unknown }).value };
}

/** Whether failure details say the carried rows were written. */
export function detailsSayWritten(details: unknown): boolean {
  return details !== null && typeof details === 'object' && (details as Record<string, unknown>)[AUDIT_KEY] === 'written';
}
