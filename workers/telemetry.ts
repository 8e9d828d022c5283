import type { IncomingMessage, ServerResponse } from 'node:http';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** More Prometheus text for `/metrics`: the worker process's instruments, the Temporal Core SDK's endpoint. */
export type MetricsSource = { label: string; text: () => Promise<string> };

let exporter: PrometheusExporter | undefined;
let handler: MetricsHandler | undefined;

/** Registers the process-wide MeterProvider (once). */
function ensureProvider(): PrometheusExporter {
  if (!exporter) {
    exporter = new PrometheusExporter({ preventServerStart: true });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  }
  return exporter;
}

/** Without `target_info`: a second process's text is appended to the first's, which already has one. */
class WithoutTargetInfo extends PrometheusSerializer {
  protected override _serializeResource(): string {
    return '';
  }
}

/** This process's own instruments, in Prometheus text. */
export async function collectMetrics(opts: { targetInfo?: boolean } = {}): Promise<string> {
  const { resourceMetrics } = await ensureProvider().collect();
  return (opts.targetInfo === false ? new WithoutTargetInfo() : new PrometheusSerializer()).serialize(resourceMetrics);
}

/** The Temporal Core SDK's Prometheus endpoint as a source ('' when it does not answer within 2 s). */
export const fetchedMetrics = (label: string, url: string): MetricsSource => ({
  label,
  text: () =>
    fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.text(),
      () => '',
    ),
});

/**
 * Registers the process-wide MeterProvider (once) and returns the `/metrics` handler: Closeloop's
 * own instruments in Prometheus text, followed by each source's (the worker process, the Temporal worker).
 */
export function installMetrics(opts: { sources?: MetricsSource[] } = {}): MetricsHandler {
  ensureProvider();
  if (handler) return handler;
  const sources = opts.sources ?? [];
  handler = async (_req, res) => {
    const parts = [await collectMetrics()];
    for (const s of sources) {
      const text = await s.text();
      if (text) parts.push(`# ${s.label}\n${text}`);
    }
    res.statusCode = 200;
    res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    res.end(parts.join('\n'));
  };
  return handler;
}
