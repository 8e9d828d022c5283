import { context, propagation } from '@opentelemetry/api';

/**
 * `traceparent` for an outgoing call: the active span's when tracing is on (the activity's span, in
 * the run's trace), else one built from the run's trace id so the callee can still correlate.
 */
export function traceHeaders(traceId: string | undefined): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent && traceId && /^[0-9a-f]{32}$/.test(traceId) && !/^0+$/.test(traceId)) carrier.traceparent = `00-${traceId}-${'0'.repeat(15)}1-01`;
  return carrier;
}
