import { metrics, ValueType } from '@opentelemetry/api';

// Instruments through @opentelemetry/api: no-ops until workers/ registers a MeterProvider (see workers/telemetry.ts).
const meter = metrics.getMeter('closeloop');

let hits = 0;
let misses = 0;

export const intakeMetrics = {
  ingested: meter.createCounter('events_ingested', { description: 'Events received, by outcome status' }),
  generated: meter.createCounter('agent_workflow_generated', { description: 'Runs started from events and triggers' }),
  manualEscalations: meter.createCounter('agent_manual_escalation', { description: 'Manual-review items opened' }),
  latency: meter.createHistogram('agent_workflow_latency_seconds', {
    description: 'Event received to first task started',
    unit: 's',
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30] },
  }),
  hit: () => void hits++,
  miss: () => void misses++,
};

meter
  .createObservableGauge('agent_strategy_hit_rate', { description: 'Share of events a strategy matched, since this process started' })
  .addCallback((r) => r.observe(hits + misses ? hits / (hits + misses) : 1));
