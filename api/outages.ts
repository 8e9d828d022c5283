// When Temporal or PostgreSQL is down, requests that need it answer 503 with Retry-After within about
// two seconds instead of hanging on the client's own retries (docs/security.md "Degradation").
import type { RequestHandler } from 'express';
import type { Client } from '@temporalio/client';

/** How long one request may wait for Temporal in all (starts, signals, queries, histories). */
export const TEMPORAL_DEADLINE_MS = 1500;
export const RETRY_AFTER_S = 5;

/** Every Temporal call a request makes runs under one deadline (Connection.withDeadline follows the request's async context). */
export function temporalDeadline(client: Client, ms = TEMPORAL_DEADLINE_MS): RequestHandler {
  return (_req, res, next) => {
    void client.withDeadline(Date.now() + ms, () => {
      const done = new Promise<void>((resolve) => {
        res.once('finish', resolve);
        res.once('close', resolve);
      });
      next();
      return done;
    });
  };
}

const codeOf = (err: unknown): unknown => {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) if (e.code !== undefined) return e.code;
  return undefined;
};

export interface Outage {
  code: 'temporal_unavailable' | 'database_unavailable';
  message: string;
  retryAfter: number;
}

/** A gRPC UNAVAILABLE or DEADLINE_EXCEEDED from Temporal, or a PostgreSQL that cannot be reached; null for anything else. */
export function asOutage(err: unknown): Outage | null {
  const code = codeOf(err);
  const name = (err as { name?: string } | undefined)?.name ?? '';
  if (code === 14 || code === 4 || name === 'ServiceError' || /deadline exceeded|UNAVAILABLE/i.test(String((err as Error | undefined)?.message)))
    return { code: 'temporal_unavailable', message: `Temporal did not answer in time (${(err as Error).message}); retry shortly`, retryAfter: RETRY_AFTER_S };
  if (
    typeof code === 'string' &&
    (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|CONNECT_TIMEOUT|CONNECTION_CLOSED|CONNECTION_ENDED)$/.test(code) || /^(08|57P0)/.test(code))
  )
    return { code: 'database_unavailable', message: `the database is unavailable (${code}); retry shortly`, retryAfter: RETRY_AFTER_S };
  return null;
}
