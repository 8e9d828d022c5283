import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every environment variable Closeloop reads (interfaces.md), in one place. */
export interface Settings {
  temporalAddress: string | undefined;
  namespace: string;
  databaseUrl: string | undefined;
  configDir: string;
  port: number;
  dataDir: string;
  devApiKey: string;
  devSigningSecret: string;
  temporalCliPath: string | undefined;
  /** Where plugins reach this API for callbacks. */
  publicUrl: string;
  /** Where the Temporal worker's own Prometheus metrics listen (appended to /metrics); empty = off. */
  workerMetricsAddress: string;
  /** JetStream event bus (optional). */
  natsUrl: string | undefined;
  /** Accept unsigned bus events (only trusted publishers can write the stream). */
  natsTrusted: boolean;
  /** OTLP/HTTP collector; traces are exported only when set. */
  otlpEndpoint: string | undefined;
  /** The Temporal task queue runs are started on and workers poll (`closeloop`). */
  taskQueue: string;
  /** A prebuilt workflow bundle (`npm run build:bundle`); built at start when unset. */
  workflowBundle: string | undefined;
  /** Seconds a run may hold a workflow thread before its worker process is stopped (0 = the SDK's per-call sandbox timeout instead). */
  workflowTaskLimitS: number;
  /** The event inbox: 429 above this many waiting events or this age (s); starts in flight per process. */
  inbox: { maxBacklog: number; maxAgeSeconds: number; concurrency: number; maxQueue: number };
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    databaseUrl: env.DATABASE_URL || undefined,
    configDir: resolve(env.CLOSELOOP_CONFIG || join(PROJECT_ROOT, 'config')),
    port: Number(env.PORT || 8080),
    dataDir: resolve(env.CLOSELOOP_DATA_DIR || join(PROJECT_ROOT, '.data')),
    devApiKey: env.CLOSELOOP_DEV_API_KEY || 'dev-admin-key',
    devSigningSecret: env.CLOSELOOP_DEV_SIGNING_SECRET || 'dev-signing-secret',
    temporalCliPath: env.TEMPORAL_CLI_PATH || undefined,
    publicUrl: env.CLOSELOOP_PUBLIC_URL || `http://127.0.0.1:${Number(env.PORT || 8080)}`,
    workerMetricsAddress: env.CLOSELOOP_WORKER_METRICS_ADDRESS ?? '127.0.0.1:9464',
    natsUrl: env.NATS_URL || undefined,
    natsTrusted: env.CLOSELOOP_NATS_TRUSTED === '1' || env.CLOSELOOP_NATS_TRUSTED === 'true',
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    taskQueue: env.CLOSELOOP_TASK_QUEUE || 'closeloop',
    workflowBundle: env.CLOSELOOP_WORKFLOW_BUNDLE || undefined,
    workflowTaskLimitS: Number(env.CLOSELOOP_WORKFLOW_TASK_LIMIT ?? 10),
    inbox: {
      maxBacklog: Number(env.CLOSELOOP_INBOX_MAX || 10_000),
      maxAgeSeconds: Number(env.CLOSELOOP_INBOX_MAX_AGE || 120),
      // 0: this process only accepts events; others start their runs
      concurrency: Number(env.CLOSELOOP_DISPATCH_CONCURRENCY ?? 16),
      maxQueue: Number(env.CLOSELOOP_DISPATCH_MAX_QUEUE || 200),
    },
  };
}
