import { metrics, ValueType, type Counter, type Histogram } from '@opentelemetry/api';

// Instruments through @opentelemetry/api. The API has no proxy meter, so they are (re)created
// against whichever MeterProvider is current when first used (workers/telemetry.ts registers it).
let hits = 0;
let misses = 0;

interface IntakeInstruments {
  ingested: Counter;
  generated: Counter;
  manualEscalations: Counter;
  callbackLatency: Histogram;
}
let bound: { provider: unknown; instruments: IntakeInstruments } | undefined;

function instruments(): IntakeInstruments {
  const provider = metrics.getMeterProvider();
  if (bound?.provider === provider) return bound.instruments;
  const meter = provider.getMeter('closeloop');
  meter
    .createObservableGauge('agent_strategy_hit_rate', { description: 'Share of events a strategy matched, since this process started' })
    .addCallback((r) => r.observe(hits + misses ? hits / (hits + misses) : 1));
  const created: IntakeInstruments = {
    ingested: meter.createCounter('events_ingested', { description: 'Events received, by outcome status' }),
    generated: meter.createCounter('agent_workflow_generated', { description: 'Runs started from events and triggers' }),
    manualEscalations: meter.createCounter('agent_manual_escalation', { description: 'Manual-review items opened' }),
    callbackLatency: meter.createHistogram('agent_workflow_callback_latency_seconds', {
      description: 'Notification sent to its delivery receipt received',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 900] },
    }),
  };
  bound = { provider, instruments: created };
  return created;
}

export const intakeMetrics = {
  ingested: { add: (n: number, attrs: Record<string, string>) => instruments().ingested.add(n, attrs) },
  generated: { add: (n: number, attrs: Record<string, string>) => instruments().generated.add(n, attrs) },
  manualEscalations: { add: (n: number, attrs: Record<string, string>) => instruments().manualEscalations.add(n, attrs) },
  hit: () => void hits++,
  miss: () => void misses++,
};

export const closureMetrics = {
  callbackLatency: (tenant: string, seconds: number) => instruments().callbackLatency.record(Math.max(0, seconds), { tenant }),
};

/** `incidents{tenant,status,severity}`: incidents by state, read from the database when metrics are scraped. */
export function observeIncidents(count: () => Promise<{ tenant: string; status: string; severity: string; n: number }[]>): void {
  metrics
    .getMeterProvider()
    .getMeter('closeloop')
    .createObservableGauge('incidents', { description: 'Incidents by state and severity (latest run of each incident id)' })
    .addCallback(async (r) => {
      for (const row of await count().catch(() => [])) r.observe(row.n, { tenant: row.tenant, status: row.status, severity: row.severity });
    });
}

/** `closeloop_alert_measure{tenant,measure}`: what the in-engine alert rules read, for Prometheus' own rules (deploy/prometheus). */
export function observeAlertMeasures(measure: () => Promise<Map<string, Partial<Record<string, number>>>>): void {
  metrics
    .getMeterProvider()
    .getMeter('closeloop')
    .createObservableGauge('closeloop_alert_measure', { description: 'The measures of config/agent/escalation.yaml alerts, per tenant, from the database' })
    .addCallback(async (r) => {
      const all = await measure().catch(() => new Map<string, Partial<Record<string, number>>>());
      for (const [tenant, values] of all) for (const [name, v] of Object.entries(values)) if (v !== undefined) r.observe(v, { tenant, measure: name });
    });
}

/** `closeloop_inbox_backlog` and `closeloop_inbox_oldest_age_seconds`: accepted events whose run has not started. */
export function observeInbox(backlog: () => { count: number; oldestSeconds: number }): void {
  const meter = metrics.getMeterProvider().getMeter('closeloop');
  meter
    .createObservableGauge('closeloop_inbox_backlog', { description: 'Accepted events whose run has not started yet' })
    .addCallback((r) => r.observe(backlog().count));
  meter
    .createObservableGauge('closeloop_inbox_oldest_age_seconds', { description: 'Age of the oldest accepted event whose run has not started', unit: 's' })
    .addCallback((r) => r.observe(backlog().oldestSeconds));
}
