import { metrics, ValueType, type Counter, type Histogram } from '@opentelemetry/api';

// Worker-side instruments, bound lazily to the current MeterProvider (see api/metrics.ts for why).
interface WorkerInstruments {
  nodeSuccess: Counter;
  nodeFailure: Counter;
  latency: Histogram;
}
let bound: { provider: unknown; instruments: WorkerInstruments } | undefined;

export function workerMetrics(): WorkerInstruments {
  const provider = metrics.getMeterProvider();
  if (bound?.provider === provider) return bound.instruments;
  const meter = provider.getMeter('closeloop');
  const created: WorkerInstruments = {
    nodeSuccess: meter.createCounter('agent_node_success', { description: 'Task runs that succeeded' }),
    nodeFailure: meter.createCounter('agent_node_failure', { description: 'Task runs that failed or timed out' }),
    latency: meter.createHistogram('agent_workflow_latency_seconds', {
      description: 'Event received to first task started',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30] },
    }),
  };
  bound = { provider, instruments: created };
  return created;
}
