import { metrics, ValueType, type Counter, type Histogram } from '@opentelemetry/api';

// Worker-side instruments, bound lazily to the current MeterProvider (see api/metrics.ts for why).
interface WorkerInstruments {
  nodeSuccess: Counter;
  nodeFailure: Counter;
  latency: Histogram;
  closures: Counter;
  remediations: Counter;
  remediationLatency: Histogram;
  auditDelay: Histogram;
  incidentTransitions: Counter;
  runsCompleted: Counter;
  incidentAck: Histogram;
}
// closure verdicts seen by this process, for the plugin_workflow_closure_rate gauge
const verdictCounts = { ok: 0, total: 0 };
export function countVerdict(verdict: string): void {
  verdictCounts.total++;
  if (verdict === 'closed' || verdict === 'remediated') verdictCounts.ok++;
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
    closures: meter.createCounter('plugin_workflow_closure', { description: 'Closure verdicts, by verdict' }),
    remediations: meter.createCounter('agent_workflow_remediation', { description: 'Remediations started, by kind and outcome' }),
    remediationLatency: meter.createHistogram('agent_workflow_remediation_latency_seconds', {
      description: 'Failure known to remediation started',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300] },
    }),
    auditDelay: meter.createHistogram('agent_workflow_audit_delay_seconds', {
      description: 'Audit row recorded in the workflow to written in the database',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60] },
    }),
    incidentTransitions: meter.createCounter('incident_transitions', { description: 'Incident state changes, by new state and severity' }),
    runsCompleted: meter.createCounter('agent_workflow_completed', { description: 'Runs that ended, by workflow and status' }),
    incidentAck: meter.createHistogram('incident_acknowledge_seconds', {
      description: 'Incident opened to acknowledged',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400] },
    }),
  };
  meter
    .createObservableGauge('plugin_workflow_closure_rate', { description: 'Share of closures verified (closed or remediated), since this process started' })
    .addCallback((r) => r.observe(verdictCounts.total ? verdictCounts.ok / verdictCounts.total : 1));
  bound = { provider, instruments: created };
  return created;
}
