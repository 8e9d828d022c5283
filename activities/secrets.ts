import { and, eq, inArray } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/activity';
import { resolveSecrets, scrub, secretKeys } from '../dsl/secrets.js';
import type { Store } from '../store/db.js';
import { kv } from '../store/schema.js';

/** Reads the secrets an activity input refers to (tenant-scoped); refuses unknown ones. */
async function loadSecrets(store: Store, tenant: string, keys: Set<string>): Promise<Map<string, unknown>> {
  if (!keys.size) return new Map();
  const rows = await store.db
    .select()
    .from(kv)
    .where(and(eq(kv.tenant, tenant), inArray(kv.key, [...keys]), eq(kv.secret, true)));
  const found = new Map(rows.map((r) => [r.key, r.value]));
  const missing = [...keys].filter((k) => !found.has(k));
  if (missing.length)
    throw ApplicationFailure.create({
      type: 'MissingSecret',
      message: `secret(s) not found for tenant '${tenant}': ${missing.map((k) => (k.startsWith('param:') ? k.split(':').pop() : k)).join(', ')}`,
      nonRetryable: true,
    });
  return found;
}

/**
 * Wraps an activity so secret markers in its input are resolved only here, and secret values never
 * leave it: they are scrubbed from its result and from any error message (which lands in history).
 */
export function withSecrets<I extends { tenant?: string }, O>(store: Store, fn: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input: I) => {
    const keys = secretKeys(input);
    if (!keys.size) return fn(input);
    if (!input.tenant) throw ApplicationFailure.create({ type: 'MissingSecret', message: 'secrets need a tenant', nonRetryable: true });
    const values = await loadSecrets(store, input.tenant, keys);
    const plain = [...values.values()].map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    try {
      return scrub(await fn(resolveSecrets(input, values) as I), plain);
    } catch (err) {
      if (err instanceof ApplicationFailure)
        throw ApplicationFailure.create({
          type: err.type ?? 'Error',
          message: scrub(err.message, plain),
          nonRetryable: err.nonRetryable ?? false,
          details: scrub(err.details ?? [], plain),
        });
      throw ApplicationFailure.create({ type: 'Error', message: scrub(err instanceof Error ? err.message : String(err), plain), nonRetryable: true });
    }
  };
}

/** kv.get for templates: non-secret values of the given keys. */
export function kvActivities(store: Store) {
  return {
    async kvGet(input: { tenant: string; keys: string[] }): Promise<Record<string, unknown>> {
      if (!input.keys.length) return {};
      const rows = await store.db
        .select()
        .from(kv)
        .where(and(eq(kv.tenant, input.tenant), inArray(kv.key, input.keys)));
      const secret = rows.filter((r) => r.secret).map((r) => r.key);
      if (secret.length)
        throw ApplicationFailure.create({
          type: 'SecretRead',
          message: `kv key(s) ${secret.join(', ')} hold secrets: use kv.get_secret()`,
          nonRetryable: true,
        });
      return Object.fromEntries(rows.map((r) => [r.key, r.value]));
    },
  };
}
