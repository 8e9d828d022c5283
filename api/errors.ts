import type { ErrorRequestHandler } from 'express';
import { asOutage } from './outages.js';

/** The API's error: rendered as `{ error: { code, message, details } }` (interfaces.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown[] = [],
    /** Seconds, sent as Retry-After (429, 503). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

export const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  if (err instanceof ApiError) {
    if (err.retryAfter) res.setHeader('retry-after', String(err.retryAfter));
    res.status(err.status).json({ error: { code: err.code, message: err.message, details: err.details } });
    return;
  }
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  if (e.type === 'entity.too.large') {
    res.status(413).json({ error: { code: 'too_large', message: `request body larger than ${e.limit} bytes`, details: [] } });
    return;
  }
  if (e.type === 'entity.parse.failed') {
    res.status(400).json({ error: { code: 'bad_json', message: `request body is not valid JSON: ${e.message}`, details: [] } });
    return;
  }
  const outage = asOutage(err);
  if (outage) {
    res.setHeader('retry-after', String(outage.retryAfter));
    res.status(503).json({ error: { code: outage.code, message: outage.message, details: [] } });
    return;
  }
  console.error('closeloop api: unexpected error', err);
  res.status(500).json({ error: { code: 'internal', message: 'internal error', details: [] } });
};
