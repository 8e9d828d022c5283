import type { IncomingMessage, ServerResponse } from 'node:http';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

let handler: MetricsHandler | undefined;

/**
 * Registers the process-wide MeterProvider (once) and returns the `/metrics` handler: Closeloop's
 * own instruments in Prometheus text, followed by the Temporal worker's metrics when
 * `workerMetricsUrl` (the Core SDK's Prometheus endpoint) is given.
 */
export function installMetrics(opts: { workerMetricsUrl?: string } = {}): MetricsHandler {
  if (handler) return handler;
  const exporter = new PrometheusExporter({ preventServerStart: true });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  const serializer = new PrometheusSerializer();
  handler = async (_req, res) => {
    const { resourceMetrics } = await exporter.collect();
    const ours = serializer.serialize(resourceMetrics);
    const worker = opts.workerMetricsUrl
      ? await fetch(opts.workerMetricsUrl, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.text(),
          () => '',
        )
      : '';
    res.statusCode = 200;
    res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    res.end(worker ? `${ours}\n# Temporal worker (Core SDK)\n${worker}` : ours);
  };
  return handler;
}
