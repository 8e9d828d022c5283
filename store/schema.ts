import { bigserial, boolean, doublePrecision, index, integer, json, jsonb, pgTable, primaryKey, text, timestamp, unique } from 'drizzle-orm/pg-core';

// Mirrors migrations/*.sql (the SQL files are the source of truth; a test checks they agree).
export const workflowDefinitions = pgTable(
  'workflow_definitions',
  {
    tenant: text('tenant').notNull(),
    ref: text('ref').notNull(),
    version: text('version').notNull(),
    yaml: text('yaml').notNull(),
    compiled: json('compiled').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    createdBy: text('created_by'),
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.ref, t.version] })],
);

export const runs = pgTable(
  'runs',
  {
    executionId: text('execution_id').primaryKey(),
    tenant: text('tenant').notNull(),
    workflowRef: text('workflow_ref').notNull(),
    workflowVersion: text('workflow_version').notNull(),
    status: text('status').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'string' }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'string' }),
    summary: json('summary'),
    context: json('context'),
    closure: text('closure'),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [index('runs_tenant_status').on(t.tenant, t.status, t.startedAt)],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    executionId: text('execution_id').notNull(),
    tenant: text('tenant').notNull(),
    seq: integer('seq').notNull(),
    kind: text('kind').notNull(),
    task: text('task'),
    detail: jsonb('detail').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'string' }).notNull(),
    writtenAt: timestamp('written_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [unique().on(t.executionId, t.seq)],
);

export const inquiries = pgTable(
  'inquiries',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    executionId: text('execution_id').notNull(),
    task: text('task').notNull(),
    prompt: text('prompt').notNull(),
    schema: json('schema'),
    assignedTo: text('assigned_to'),
    status: text('status').notNull(),
    deadline: timestamp('deadline', { withTimezone: true, mode: 'string' }),
    response: json('response'),
    respondedBy: text('responded_by'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [index('inquiries_tenant_status').on(t.tenant, t.status, t.createdAt)],
);

export const kv = pgTable(
  'kv',
  {
    tenant: text('tenant').notNull(),
    key: text('key').notNull(),
    value: json('value').notNull(),
    secret: boolean('secret').notNull().default(false),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.key] })],
);

export const callbacks = pgTable('callbacks', {
  token: text('token').primaryKey(),
  tenant: text('tenant').notNull(),
  executionId: text('execution_id').notNull(),
  task: text('task').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  receivedAt: timestamp('received_at', { withTimezone: true, mode: 'string' }),
  kind: text('kind').notNull().default('result'),
  result: jsonb('result'),
});

export const events = pgTable(
  'events',
  {
    tenant: text('tenant').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    envelope: jsonb('envelope').notNull(),
    transport: text('transport').notNull(),
    status: text('status').notNull(),
    strategyId: text('strategy_id'),
    strategyVersion: integer('strategy_version'),
    executionId: text('execution_id'),
    error: text('error'),
    bodyHash: text('body_hash'),
    launch: jsonb('launch'),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'string' }),
    attempts: integer('attempts').notNull().default(0),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenant, t.idempotencyKey] }),
    index('events_tenant_id').on(t.tenant, t.id),
    index('events_received').on(t.receivedAt),
    index('events_tenant_received').on(t.tenant, t.receivedAt),
    // and events_inbox and events_inbox_tenant, partial indexes of 'accepted' rows (migrations/0009_inbox.sql, 0010_inbox_by_tenant.sql)
  ],
);

export const strategies = pgTable(
  'strategies',
  {
    id: text('id').notNull(),
    version: integer('version').notNull(),
    owner: text('owner').notNull(),
    status: text('status').notNull(),
    definition: jsonb('definition').notNull(),
    origin: text('origin').notNull(),
    createdBy: text('created_by'),
    approvedBy: text('approved_by'),
    activatedAt: timestamp('activated_at', { withTimezone: true, mode: 'string' }),
    previousActive: integer('previous_active'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.owner, t.id, t.version] }), index('strategies_status').on(t.status)],
);

export const manualReviews = pgTable(
  'manual_reviews',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    reason: text('reason').notNull(),
    eventKey: text('event_key'),
    executionId: text('execution_id'),
    detail: jsonb('detail').notNull(),
    status: text('status').notNull().default('open'),
    notifiedAt: timestamp('notified_at', { withTimezone: true, mode: 'string' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, mode: 'string' }),
    resolvedBy: text('resolved_by'),
  },
  (t) => [index('manual_reviews_tenant_status').on(t.tenant, t.status, t.createdAt)],
);

export const eventsOut = pgTable(
  'events_out',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull().unique(),
    tenant: text('tenant').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [index('events_out_unpublished').on(t.createdAt)],
);

export const closures = pgTable(
  'closures',
  {
    executionId: text('execution_id').primaryKey(),
    tenant: text('tenant').notNull(),
    rule: text('rule').notNull(),
    verdict: text('verdict').notNull(),
    checks: jsonb('checks').notNull(),
    remediations: jsonb('remediations').notNull(),
    graphEndedAt: timestamp('graph_ended_at', { withTimezone: true, mode: 'string' }).notNull(),
    verdictAt: timestamp('verdict_at', { withTimezone: true, mode: 'string' }).notNull(),
    remediationSeconds: doublePrecision('remediation_seconds'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [index('closures_tenant_time').on(t.tenant, t.verdictAt)],
);

export const reports = pgTable('reports', {
  executionId: text('execution_id').primaryKey(),
  tenant: text('tenant').notNull(),
  report: jsonb('report').notNull(),
  markdown: text('markdown').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  auditSentAt: timestamp('audit_sent_at', { withTimezone: true, mode: 'string' }),
});

export const incidents = pgTable(
  'incidents',
  {
    runId: text('run_id').primaryKey(),
    id: text('id').notNull(),
    tenant: text('tenant').notNull(),
    source: text('source').notNull(),
    sourceId: text('source_id').notNull(),
    severity: text('severity').notNull(),
    status: text('status').notNull(),
    title: text('title').notNull(),
    rootCause: text('root_cause'),
    escalationLevel: integer('escalation_level').notNull().default(0),
    alertCount: integer('alert_count').notNull().default(1),
    attribution: jsonb('attribution').notNull(),
    policy: jsonb('policy').notNull(),
    openedAt: timestamp('opened_at', { withTimezone: true, mode: 'string' }).notNull(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true, mode: 'string' }),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, mode: 'string' }),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [index('incidents_tenant_status').on(t.tenant, t.status, t.openedAt), index('incidents_id').on(t.id, t.openedAt)],
);

export const incidentEvents = pgTable(
  'incident_events',
  {
    runId: text('run_id').notNull(),
    seq: integer('seq').notNull(),
    tenant: text('tenant').notNull(),
    kind: text('kind').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status'),
    by: text('by'),
    detail: jsonb('detail').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'string' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

export const feedback = pgTable('feedback', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  sourceId: text('source_id').notNull().unique(),
  tenant: text('tenant').notNull(),
  category: text('category').notNull(),
  sentiment: text('sentiment').notNull(),
  summary: text('summary').notNull(),
  attribution: jsonb('attribution').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});

export const schema = {
  workflowDefinitions,
  runs,
  auditLog,
  inquiries,
  kv,
  callbacks,
  events,
  strategies,
  manualReviews,
  eventsOut,
  closures,
  reports,
  incidents,
  incidentEvents,
  feedback,
};
