import { and, eq, inArray } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/activity';
import { resolveSecrets, scrub, secretKeys } from '../dsl/secrets.js';
import type { Store } from '../store/db.js';
import { kv } from '../store/schema.js';
import { secretBox } from '../store/secret-box.js';
import { FAILURE } from '../contracts/failures.js';

/** Reads the secrets an activity input refers to (tenant-scoped); refuses unknown ones. */
async function loadSecrets(store: Store, tenant: string, keys: Set<string>): Promise<Map<string, unknown>> {
  if (!keys.size) return new Map();
  const rows = await store.db
    .select()
    .from(kv)
    .where(and(eq(kv.tenant, tenant), inArray(kv.key, [...keys]), eq(kv.secret, true)));
  const box = secretBox();
  const found = new Map(rows.map((r) => [r.key, box.open(r.value)]));
  const missing = [...keys].filter((k) => !found.has(k));
  if (missing.length)
    throw ApplicationFailure.create({
      type: FAILURE.missingSecret,
      message: `secret(s) not found for tenant '${tenant}': ${missing.map((k) => (k.startsWith('param:') ? k.split(':').at(-2) : k)).join(', ')}`,
      nonRetryable: true,
    });
  return found;
}

/**
 * Resolves the secret markers in `value` (tenant-scoped) and runs `fn` on the result; secret values
 * never leave it: they are scrubbed from its result and from any error message (which lands in history).
 */
export async function resolvingSecrets<C, O>(store: Store, tenant: string | undefined, value: C, fn: (resolved: C) => Promise<O>): Promise<O> {
  const keys = secretKeys(value);
  if (!keys.size) return fn(value);
  if (!tenant) throw ApplicationFailure.create({ type: FAILURE.missingSecret, message: 'secrets need a tenant', nonRetryable: true });
  const values = await loadSecrets(store, tenant, keys);
  const plain = [...values.values()].map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  try {
    return scrub(await fn(resolveSecrets(value, values) as C), plain);
  } catch (err) {
    if (err instanceof ApplicationFailure)
      throw ApplicationFailure.create({
        type: err.type ?? FAILURE.error,
        message: scrub(err.message, plain),
        nonRetryable: err.nonRetryable ?? false,
        details: scrub(err.details ?? [], plain),
      });
    throw ApplicationFailure.create({ type: FAILURE.error, message: scrub(err instanceof Error ? err.message : String(err), plain), nonRetryable: true });
  }
}

/** An activity whose input may hold secret markers (core.notify): resolved only inside it. */
export function withSecrets<I extends { tenant?: string }, O>(store: Store, fn: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return (input: I) => resolvingSecrets(store, input.tenant, input, fn);
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
          type: FAILURE.secretRead,
          message: `kv key(s) ${secret.join(', ')} hold secrets: use kv.get_secret()`,
          nonRetryable: true,
        });
      return Object.fromEntries(rows.map((r) => [r.key, r.value]));
    },
  };
}
