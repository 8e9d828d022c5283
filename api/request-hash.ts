// Idempotency with a memory of what was asked: the same key with a different request is a 409
// `idempotency_conflict`, not a silent `duplicate` (docs/security.md "Idempotency").
import { createHash } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';

/** A short, key-order-independent digest of a JSON-like request. */
export function requestHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, 32);
}

/** An event as it counts for idempotency: everything but the trace id, which a retrying producer may renew. */
export function eventHash(event: object): string {
  const { trace_id: _trace, ...rest } = event as Record<string, unknown>;
  return requestHash(rest);
}
