import { ApplicationFailure } from '@temporalio/activity';
import type { HttpRequestInput, HttpResult } from './types.js';
import { FAILURE } from '../contracts/failures.js';
import { traceHeaders } from './trace-headers.js';

const MAX_BODY_BYTES = 1024 * 1024;

/** core.http: one HTTP call with the task run's idempotency key. Business failures are non-retryable. */
export async function httpRequest(input: HttpRequestInput): Promise<HttpResult> {
  const method = (input.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { 'idempotency-key': input.idempotencyKey, ...(input.headers ?? {}) };
  for (const [k, v] of Object.entries(traceHeaders(input.traceId))) headers[k] ??= v;
  let body: string | undefined;
  if (input.body !== undefined && input.body !== null && method !== 'GET' && method !== 'HEAD') {
    body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
    if (typeof input.body !== 'string') headers['content-type'] ??= 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(input.url, { method, headers, body, signal: AbortSignal.timeout((input.timeout ?? 30) * 1000), redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const timedOut = (err as Error).name === 'TimeoutError';
    throw ApplicationFailure.create({
      type: timedOut ? FAILURE.timeout : FAILURE.http,
      message: `${method} ${input.url}: ${timedOut ? `no answer within ${input.timeout ?? 30}s` : (cause ?? (err as Error).message)}`,
      nonRetryable: true,
    });
  }
  const text = await res.text();
  const truncated = text.length > MAX_BODY_BYTES ? text.slice(0, MAX_BODY_BYTES) : text;
  let parsed: unknown = truncated;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      parsed = JSON.parse(truncated);
    } catch {
      parsed = truncated;
    }
  }
  const result: HttpResult = { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: parsed };
  const expected = input.expected_status === undefined ? null : Array.isArray(input.expected_status) ? input.expected_status : [input.expected_status];
  const ok = expected ? expected.includes(res.status) : res.status < 400;
  if (!ok) {
    throw ApplicationFailure.create({
      type: FAILURE.httpStatus,
      message: `${method} ${input.url} answered ${res.status}${expected ? ` (expected ${expected.join(' or ')})` : ''}`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}
