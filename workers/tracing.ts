import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryWorkflowClientInterceptor, makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import { PROJECT_ROOT } from './settings.js';

export const OTEL_WORKFLOW_INTERCEPTORS = join(PROJECT_ROOT, 'workflows', 'otel-interceptors.ts');

export interface Tracing {
  clientInterceptors: WorkflowClientInterceptor[];
  workerInterceptors: WorkerInterceptors;
  sinks: InjectedSinks<never>;
  shutdown(): Promise<void>;
}

let installed: Tracing | undefined;

/**
 * Traces over OTLP/HTTP when an endpoint is set: the W3C propagator and async-context manager are
 * registered, Temporal's client, workflow and activity interceptors carry the trace through each run
 * (workflow spans leave the sandbox through a sink). Without an endpoint nothing is installed and
 * runs still carry `system.trace_id` to HTTP and plugin calls as `traceparent`.
 */
export function installTracing(endpoint: string | undefined, opts: { exporter?: SpanExporter } = {}): Tracing | undefined {
  if (installed || (!endpoint && !opts.exporter)) return installed;
  const resource = new Resource({ 'service.name': 'closeloop' });
  const exporter = opts.exporter ?? new OTLPTraceExporter({ url: `${endpoint!.replace(/\/$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })] });
  provider.register();
  installed = {
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    // the workflow-side interceptors are compiled into the bundle (workflowBundle({ tracing: true }))
    workerInterceptors: { activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx) })] },
    sinks: { exporter: makeWorkflowExporter(exporter, resource) } as InjectedSinks<never>,
    shutdown: () => provider.shutdown(),
  };
  return installed;
}
