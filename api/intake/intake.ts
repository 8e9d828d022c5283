import { randomBytes } from 'node:crypto';
import proto from '@temporalio/proto';
import { checkEnvelope } from '../../dsl/event.js';
import type { EventEnvelope, MatchResult } from '../../dsl/strategy-match.js';
import type { EventRepo, EventRow, InboxLaunch } from '../../store/events-repo.js';
import type { TenantConfig } from '../../contracts/config.js';
import { ApiError } from '../errors.js';
import { launchWorkflow, type LaunchDeps } from '../launch.js';
import { Dispatcher, type InboxLimits } from './dispatcher.js';
import { intakeMetrics } from '../metrics.js';
import type { StrategyLibrary } from '../strategy-library.js';
import { openManualReview } from './manual-review.js';
import type { RateLimiter } from './rate-limit.js';
import { verify } from './signature.js';
import { eventHash } from '../request-hash.js';

export type Transport = 'http' | 'nats' | 'replay';

const { temporal } = proto;

/** A stored event not routed after this long was left by a process that stopped mid-request. */
const STALE_AFTER_S = 30;

export interface IntakeResult {
  event_id: string;
  /** accepted: stored and matched, its run starts from the inbox; started: only with `wait`. */
  status: 'accepted' | 'started' | 'duplicate' | 'unmatched';
  strategy: string | null;
  execution_id: string | null;
}

export interface IntakeDeps {
  events: EventRepo;
  library: StrategyLibrary;
  launch: LaunchDeps;
  tenants: () => TenantConfig;
  limiter: RateLimiter;
  /** The durable inbox's limits; absent = every run starts before the answer (as with `wait`). */
  inbox?: InboxLimits;
}

const refused = (status: number, code: string, message: string, details?: { location?: string; message?: string }[], retryAfter?: number) => {
  intakeMetrics.ingested.add(1, { status: code });
  return new ApiError(status, code, message, details, retryAfter);
};

/**
 * One path for every event, whatever carried it: parse, validate, check tenant and signature,
 * rate-limit, store (before anything is acknowledged), match a strategy, start the run or open a
 * manual review. The same (tenant, idempotency key) never starts a second run.
 */
export class Intake {
  readonly dispatcher: Dispatcher | undefined;

  constructor(private readonly deps: IntakeDeps) {
    if (deps.inbox) {
      this.dispatcher = new Dispatcher({
        events: deps.events,
        launch: deps.launch,
        limits: deps.inbox,
        tenants: () => [...deps.tenants().tenants.keys()],
        refused: (row, err) => this.refusedStart(row, err),
        recover: () => this.recoverStale(),
        queued: () => taskQueueBacklog(deps.launch),
        log: (l) => console.warn(l),
      });
      this.dispatcher.start();
    }
  }

  /**
   * `wait`: answer once the run has started (`started`); otherwise once the event is stored and
   * matched (`accepted`), the run starting from the inbox.
   */
  async submit(raw: Buffer, signature: string | undefined, transport: Transport, opts: { trusted?: boolean; wait?: boolean } = {}): Promise<IntakeResult> {
    const receivedAt = Date.now();
    const event = this.authenticate(raw, signature, opts.trusted ?? false);
    // from memory, before any I/O: a full inbox refuses at once
    const full = this.dispatcher?.full();
    if (full) throw refused(429, 'inbox_full', `the event inbox is full (${this.dispatcher!.backlog().count} waiting); retry in ${full} s`, [], full);
    const wait = this.deps.limiter.take(event.tenant);
    if (wait > 0) throw refused(429, 'rate_limited', `tenant '${event.tenant}' is sending faster than its limit; retry in ${wait} s`, [], wait);
    const key = event.idempotency_key ?? event.id;
    const hash = eventHash(event);
    // the common case in one statement: matched (in memory), then stored already accepted
    const inbox = Boolean(this.dispatcher) && !opts.wait;
    const match = inbox ? (await this.deps.library.current()).match(event) : undefined;
    const launch = match?.winner && !match.error ? this.launchOf(event, match, receivedAt) : undefined;
    const accepted =
      launch && match?.winner
        ? { strategyId: match.winner.id, strategyVersion: match.winner.version, executionId: `run:${event.tenant}:${key}`, launch }
        : undefined;
    const earlier = accepted ? await this.deps.events.claimAccepted(event, key, transport, hash, accepted) : null;
    if (accepted && !earlier) {
      intakeMetrics.hit();
      return this.acceptedAnswer(event, launch!.strategy, accepted.executionId);
    }
    const { fresh, row } = earlier ? { fresh: false, row: earlier } : await this.deps.events.claim(event, key, transport, hash);
    if (!fresh && row.bodyHash && row.bodyHash !== hash)
      throw refused(
        409,
        'idempotency_conflict',
        `idempotency key '${key}' of tenant '${event.tenant}' was first used by event '${row.id}' with a different body; use a new key for a new event`,
        [{ location: key === event.id ? 'body.id' : 'body.idempotency_key' }],
      );
    if (!fresh && row.status === 'accepted' && opts.wait && row.launch) return this.startNow(event, key, row, row.launch as InboxLaunch);
    if (!fresh && (row.status === 'started' || row.status === 'unmatched' || row.status === 'accepted')) return this.duplicate(row);
    return this.route(event, key, row, receivedAt, opts.wait ?? !this.dispatcher, match);
  }

  /** What the inbox keeps to start a matched event's run. */
  private launchOf(event: EventEnvelope, match: MatchResult, receivedAt: number): InboxLaunch {
    const winner = match.winner!;
    const strategy = `${winner.id}@${winner.version}`;
    return {
      workflow: winner.workflow,
      parameters: match.parameters ?? {},
      startedBy: `strategy:${strategy}`,
      traceId: event.trace_id ?? randomBytes(16).toString('hex'),
      strategy,
      event: {
        id: event.id,
        type: event.type,
        tenant: event.tenant,
        occurred_at: event.occurred_at ?? null,
        received_at: new Date(receivedAt).toISOString(),
        payload: event.payload,
      },
      ...(winner.permissions ? { permissions: winner.permissions } : {}),
      taskQueue: this.deps.launch.taskQueue,
      candidates: match.candidates,
    };
  }

  private authenticate(raw: Buffer, signature: string | undefined, trusted: boolean): EventEnvelope {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw refused(400, 'malformed_json', `the body is not JSON: ${(err as Error).message}`, [{ location: 'body' }]);
    }
    const checked = checkEnvelope(body);
    if (!checked.ok) {
      const first = checked.problems[0];
      const more = checked.problems.length > 1 ? ` (and ${checked.problems.length - 1} more)` : '';
      throw refused(400, 'invalid_event', `the event envelope is invalid: ${first?.location}: ${first?.message}${more}`, checked.problems);
    }
    const event = checked.event;
    const tenant = this.deps.tenants().tenants.get(event.tenant);
    if (!tenant) throw refused(401, 'unknown_tenant', `tenant '${event.tenant}' is not known here`);
    if (tenant.status !== 'active') throw refused(403, 'tenant_disabled', `tenant '${event.tenant}' is disabled`);
    if (!trusted) {
      if (!tenant.signingSecret)
        throw refused(401, 'unsigned_tenant', `tenant '${event.tenant}' has no signing secret configured, so its events cannot be verified`);
      const check = verify(tenant.signingSecret, raw, signature);
      if (!check.ok) throw refused(401, 'bad_signature', check.reason);
    }
    return event;
  }

  private duplicate(row: EventRow): IntakeResult {
    intakeMetrics.ingested.add(1, { status: 'duplicate', tenant: row.tenant });
    const strategy = row.strategyId ? `${row.strategyId}@${row.strategyVersion}` : null;
    return { event_id: row.id, status: 'duplicate', strategy, execution_id: row.executionId };
  }

  private async route(event: EventEnvelope, key: string, row: EventRow, receivedAt: number, wait: boolean, known?: MatchResult): Promise<IntakeResult> {
    const { tenant } = event;
    const match = known ?? (await this.deps.library.current()).match(event);
    const winner = match.winner;
    if (!winner || match.error) {
      intakeMetrics.miss();
      return this.review(event, key, match.error ? 'strategy_error' : 'unmatched', { error: match.error ?? null, candidates: match.candidates });
    }
    intakeMetrics.hit();
    const strategy = `${winner.id}@${winner.version}`;
    const launch = this.launchOf(event, match, receivedAt);
    const settled = { ...row, strategyId: winner.id, strategyVersion: winner.version };
    if (wait) return this.startNow(event, key, settled, launch);
    // stored with its launch request: from here on, the run starts whatever happens to this process
    const executionId = `run:${tenant}:${key}`;
    await this.deps.events.accept(tenant, key, { strategyId: winner.id, strategyVersion: winner.version, executionId, launch });
    return this.acceptedAnswer(event, strategy, executionId);
  }

  /** The event waits in the inbox: the local dispatcher is woken, and the producer answered `accepted`. */
  private acceptedAnswer(event: EventEnvelope, strategy: string, executionId: string): IntakeResult {
    this.dispatcher!.accepted();
    intakeMetrics.ingested.add(1, { status: 'accepted', tenant: event.tenant });
    return { event_id: event.id, status: 'accepted', strategy, execution_id: executionId };
  }

  /** Starts the run before answering (`?wait=started`, or an intake without an inbox). */
  private async startNow(event: EventEnvelope, key: string, row: EventRow, launch: InboxLaunch): Promise<IntakeResult> {
    const { tenant } = event;
    const { taskQueue: _queue, candidates: _candidates, ...request } = launch;
    let started;
    try {
      started = await launchWorkflow(this.deps.launch, { tenant, idempotencyKey: key, ...request });
    } catch (err) {
      // a strategy pointing at a missing workflow or rendering bad parameters is a library defect: people decide
      if (err instanceof ApiError && err.status < 500)
        return this.review(event, key, 'strategy_error', { strategy: launch.strategy, error: err.message, details: err.details ?? [] });
      await this.deps.events.settle(tenant, key, {
        status: 'failed',
        strategyId: row.strategyId,
        strategyVersion: row.strategyVersion,
        error: (err as Error).message,
      });
      throw refused(
        503,
        'start_failed',
        `event ${event.id} is stored but its run could not be started (${(err as Error).message}); send it again or run 'closeloop events replay ${event.id}'`,
      );
    }
    await this.deps.events.settle(tenant, key, {
      status: 'started',
      strategyId: row.strategyId,
      strategyVersion: row.strategyVersion,
      executionId: started.execution_id,
    });
    if (started.status === 'duplicate') return this.duplicate({ ...row, executionId: started.execution_id });
    intakeMetrics.ingested.add(1, { status: 'started', tenant });
    intakeMetrics.generated.add(1, { tenant, strategy: row.strategyId ?? '' });
    return { event_id: event.id, status: 'started', strategy: launch.strategy, execution_id: started.execution_id };
  }

  /**
   * Events stored but never answered (the process stopped between storing and routing them): routed
   * now, into the inbox or to review. Their producer got no answer and may also send them again;
   * the idempotency key makes that a duplicate.
   */
  private async recoverStale(): Promise<number> {
    const rows = await this.deps.events.stale(STALE_AFTER_S, [...this.deps.tenants().tenants.keys()]);
    for (const row of rows) {
      const event = row.envelope as EventEnvelope;
      await this.route(event, row.idempotencyKey, row, Date.parse(row.receivedAt), false).catch((err: Error) =>
        console.warn(`closeloop inbox: event ${row.id} could not be routed: ${err.message}`),
      );
    }
    return rows.length;
  }

  /** The dispatcher could not start an accepted event's run for good: manual review, as at intake. */
  private async refusedStart(row: EventRow, err: ApiError): Promise<void> {
    const launch = row.launch as InboxLaunch;
    await this.review(row.envelope as EventEnvelope, row.idempotencyKey, 'strategy_error', {
      strategy: launch.strategy,
      error: err.message,
      details: err.details ?? [],
    });
  }

  private async review(event: EventEnvelope, key: string, reason: 'unmatched' | 'strategy_error', detail: Record<string, unknown>): Promise<IntakeResult> {
    const { launch } = this.deps;
    const review = await openManualReview(
      { db: launch.store.db, client: launch.client, taskQueue: launch.taskQueue },
      { tenant: event.tenant, key, reason, eventKey: key, detail: { event: { id: event.id, type: event.type, idempotency_key: key }, ...detail } },
    );
    await this.deps.events.settle(event.tenant, key, { status: 'unmatched', error: typeof detail.error === 'string' ? detail.error : null });
    if (!review.created) return this.duplicate({ id: event.id, tenant: event.tenant, strategyId: null, strategyVersion: null, executionId: null } as EventRow);
    intakeMetrics.ingested.add(1, { status: 'unmatched', tenant: event.tenant });
    return { event_id: event.id, status: 'unmatched', strategy: null, execution_id: null };
  }
}

/**
 * Tasks waiting in the run task queue, workflow and activity tasks together, as Temporal counts them
 * (approximate; 0 when it does not say). Both count: runs parked behind busy activity slots are open
 * runs too, and past the workers' caches every open run costs the server and the worker a full replay.
 */
async function taskQueueBacklog(launch: LaunchDeps): Promise<number> {
  const types = temporal.api.enums.v1.TaskQueueType;
  const backlog = async (taskQueueType: (typeof types)[keyof typeof types]) => {
    const r = await launch.client.connection.withDeadline(Date.now() + 1000, () =>
      launch.client.connection.workflowService.describeTaskQueue({
        namespace: launch.client.options.namespace,
        taskQueue: { name: launch.taskQueue },
        taskQueueType,
        reportStats: true,
      }),
    );
    return Number(r.stats?.approximateBacklogCount ?? 0);
  };
  const [w, a] = await Promise.all([backlog(types.TASK_QUEUE_TYPE_WORKFLOW), backlog(types.TASK_QUEUE_TYPE_ACTIVITY)]);
  return w + a;
}
