// The inbox's other half: starts the runs of accepted events, in batches, with bounded concurrency,
// retrying what fails. Every API process runs one; rows are leased (SKIP LOCKED), so they share the
// work, and a process that dies mid-start leaves a lease that runs out: another picks the row up.
import { ApiError } from '../errors.js';
import { launchWorkflow, type LaunchDeps } from '../launch.js';
import { intakeMetrics } from '../metrics.js';
import type { EventRepo, EventRow, InboxLaunch } from '../../store/events-repo.js';
import { RunRepo } from '../../store/runs-repo.js';
import type { RunIndexRow } from '../../contracts/audit.js';

export interface InboxLimits {
  /** Accepted events not yet started above which new events get 429. */
  maxBacklog: number;
  /** Age of the oldest waiting event (s) above which new events get 429. */
  maxAgeSeconds: number;
  /** Starts in flight per process. */
  concurrency: number;
  /** Workflow tasks waiting in Temporal's task queue above which no new run starts (the inbox buffers instead). */
  maxQueue?: number;
}

export const DEFAULT_INBOX: InboxLimits = { maxBacklog: 10_000, maxAgeSeconds: 120, concurrency: 16, maxQueue: 200 };
const LEASE_S = 30;
const IDLE_POLL_MS = 250;
const BACKLOG_REFRESH_MS = 500;
const RECOVER_EVERY_MS = 10_000;

type Done = { started: { tenant: string; key: string; executionId: string }[]; index: RunIndexRow[] };

/** What becomes of an event whose start was refused for good (a 4xx): a manual review, as at intake. */
export type Refused = (row: EventRow, err: ApiError) => Promise<void>;

export class Dispatcher {
  private backlogNow = { count: 0, oldestSeconds: 0 };
  private queuedNow = 0;
  private localAccepted = 0;
  private wake: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private refreshedAt = 0;
  private recoveredAt = 0;

  constructor(
    private readonly deps: {
      events: EventRepo;
      launch: LaunchDeps;
      refused: Refused;
      limits: InboxLimits;
      /** The tenants this process serves: it leases only their events. */
      tenants: () => string[];
      /** Routes events stored but never routed (a process stopped mid-request); returns how many. */
      recover?: () => Promise<number>;
      /** Workflow tasks waiting in Temporal's task queue (the workers' backlog); 0 when unknown. */
      queued?: () => Promise<number>;
      log?: (line: string) => void;
    },
  ) {}

  /** Answered from memory, so a refusal never waits behind the database: null, or the seconds to wait. */
  full(): number | null {
    const { maxBacklog, maxAgeSeconds } = this.deps.limits;
    const count = this.backlogNow.count + this.localAccepted;
    if (count >= maxBacklog || this.backlogNow.oldestSeconds >= maxAgeSeconds) return Math.max(1, Math.ceil(this.backlogNow.oldestSeconds / 10) || 1);
    return null;
  }

  backlog(): { count: number; oldestSeconds: number } {
    return { count: this.backlogNow.count + this.localAccepted, oldestSeconds: this.backlogNow.oldestSeconds };
  }

  /** An event was just accepted here: start soon. */
  accepted(): void {
    this.localAccepted++;
    this.wake?.();
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let worked = 0;
      try {
        await this.refresh();
        if (this.deps.recover && Date.now() - this.recoveredAt > RECOVER_EVERY_MS) {
          this.recoveredAt = Date.now();
          worked += await this.deps.recover();
        }
        worked += await this.batch();
      } catch (err) {
        this.deps.log?.(`closeloop inbox: ${(err as Error).message}`);
      }
      if (worked === 0 && !this.stopped)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, IDLE_POLL_MS);
          t.unref?.();
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      this.wake = undefined;
    }
  }

  private async refresh(): Promise<void> {
    if (Date.now() - this.refreshedAt < BACKLOG_REFRESH_MS) return;
    this.refreshedAt = Date.now();
    this.backlogNow = await this.deps.events.backlog(this.deps.tenants());
    this.localAccepted = 0;
    // only a process that dispatches needs the workers' backlog (each reading costs the Temporal server)
    if (this.deps.limits.concurrency > 0) this.queuedNow = (await this.deps.queued?.().catch(() => 0)) ?? 0;
  }

  /** One batch: lease, start each with at most `concurrency` in flight; returns how many were leased. */
  private async batch(): Promise<number> {
    // the workers are behind: runs wait here, where age and count turn into 429s, not in Temporal's queue
    if (this.deps.limits.maxQueue && this.queuedNow >= this.deps.limits.maxQueue) return 0;
    if (this.deps.limits.concurrency < 1) return 0; // an intake-only process
    const rows = await this.deps.events.lease(this.deps.limits.concurrency * 2, LEASE_S, this.deps.tenants());
    // what the batch started, marked in the inbox and indexed in two statements at its end
    const done: Done = { started: [], index: [] };
    let next = 0;
    const worker = async () => {
      while (next < rows.length && !this.stopped) await this.startOne(rows[next++]!, done);
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.limits.concurrency, rows.length) }, worker));
    // a crash before this leaves the rows leased: another process starts them again (a duplicate) and marks them
    if (done.index.length) await new RunRepo(this.deps.launch.store.db).started(...done.index);
    if (done.started.length) await this.deps.events.startedMany(done.started);
    return rows.length;
  }

  private async startOne(row: EventRow, done: Done): Promise<void> {
    const { taskQueue, candidates: _candidates, ...launch } = row.launch as InboxLaunch;
    try {
      const started = await launchWorkflow(
        {
          ...this.deps.launch,
          taskQueue: taskQueue || this.deps.launch.taskQueue,
          index: async (r) => void done.index.push(r),
        },
        { tenant: row.tenant, idempotencyKey: row.idempotencyKey, ...launch },
      );
      done.started.push({ tenant: row.tenant, key: row.idempotencyKey, executionId: started.execution_id });
      if (started.status === 'started') intakeMetrics.generated.add(1, { tenant: row.tenant, strategy: row.strategyId ?? '' });
    } catch (err) {
      if (err instanceof ApiError && err.status < 500 && err.status !== 429) return this.deps.refused(row, err);
      // Temporal or the database is away: try again, backing off up to a minute
      const wait = Math.min(60, 2 ** Math.min(row.attempts, 6));
      await this.deps.events.retryLater(row.tenant, row.idempotencyKey, wait, (err as Error).message).catch(() => undefined);
    }
  }
}
