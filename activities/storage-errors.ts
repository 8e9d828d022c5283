import { ApplicationFailure } from '@temporalio/activity';
import { FAILURE } from '../contracts/failures.js';

// PostgreSQL SQLSTATE classes that no retry can fix: data exceptions (22: bad text, bad JSON, out of
// range) and program limits (54: too large). Drizzle wraps the driver's error, so both are looked at.
const PERMANENT = /^(22|54)/;

function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && typeof e === 'object' && i < 3; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * An activity whose write the database refuses for good fails non-retryably (type StorageRejected),
 * instead of being retried forever while its run never ends (docs/security.md).
 */
export function failPermanentStorageErrors<A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      const code = sqlState(err);
      if (!code || !PERMANENT.test(code)) throw err;
      const message = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw ApplicationFailure.create({
        type: FAILURE.storageRejected,
        message: `${name}: the database refused the write (SQLSTATE ${code}): ${message}`,
        nonRetryable: true,
      });
    }
  };
}

/** Applies failPermanentStorageErrors to every activity of a set. */
export function withPermanentStorageErrors<T extends object>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([k, fn]) => [
      k,
      typeof fn === 'function' ? failPermanentStorageErrors(k, fn as (...a: unknown[]) => Promise<unknown>) : fn,
    ]),
  ) as T;
}
