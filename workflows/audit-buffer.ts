import { CancellationScope, condition, proxyLocalActivities } from '@temporalio/workflow';
import { FEATURE } from '../contracts/features.js';
import { MAX_CARRIED_BYTES, MAX_CARRIED_ROWS } from '../dsl/audit-rides.js';
import type { AuditKind, AuditRow, RunIndexRow } from '../contracts/audit.js';
import type { CoreActivities } from '../activities/types.js';

/** Patch id: audit rows ride on the next task activity instead of a local activity per task (docs/decisions.md). */
export const AUDIT_RIDES = FEATURE.auditRides;

// a local activity: the write is recorded as a marker, without an extra workflow task per task run
export const auditStore = (task: string) =>
  proxyLocalActivities<CoreActivities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' }, summary: `audit: ${task}` });

/**
 * A run's audit rows on their way to the database: numbered in the order they happen, carried by
 * the next task activity when there is one (`closeloop.audit-rides`), else written by a local
 * activity at the end of the activation, and drained before the run waits, continues or ends.
 */
export class AuditBuffer {
  readonly rows: AuditRow[] = [];
  private flushQueued = false;
  private readonly writes: Promise<void>[] = [];

  constructor(
    private readonly executionId: string,
    private readonly tenant: string,
    private seq: number,
    /** Whether anything still runs: with nothing running the run is ending, continuing or closing, and drains itself. */
    private readonly busy: () => boolean,
    /** Runs recorded since `closeloop.audit-rides` hand their rows to the next task activity. */
    readonly rides: boolean,
  ) {}

  get lastSeq(): number {
    return this.seq;
  }

  record(kind: AuditKind, task: string | null, detail: Record<string, unknown>): void {
    this.rows.push({ execution_id: this.executionId, tenant: this.tenant, seq: ++this.seq, kind, task, detail, at: new Date().toISOString() });
    if (this.rides) this.flushSoon();
  }

  /**
   * Writes the buffered rows at the end of this activation, unless a task activity scheduled in it
   * took them. The SDK evaluates a condition once when it is made, then again only after everything
   * else the activation started has run: the condition says "not yet" the first time, "now" the next.
   */
  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    let asked = false;
    const later = () => asked || !(asked = true);
    // in a cancelled scope the condition rejects: the rows then wait for the run's final write
    condition(later).then(
      () => {
        this.flushQueued = false;
        if (this.busy()) this.flush(this.rows[this.rows.length - 1]?.task ?? 'run');
      },
      () => {
        this.flushQueued = false;
      },
    );
  }

  /** The buffered rows for a task activity to carry (none when they are too many or too large to ride). */
  take(): AuditRow[] {
    if (!this.rides || !this.rows.length || this.rows.length > MAX_CARRIED_ROWS) return [];
    // published values are the only rows that can be large
    if (this.rows.some((r) => r.kind === 'var.set') && JSON.stringify(this.rows).length > MAX_CARRIED_BYTES) return [];
    return this.rows.splice(0);
  }

  /** Writes rows now without waiting (idempotent on seq): rows an activity carried but did not confirm writing, or what `flush` sends. */
  giveBack(rows: AuditRow[], task: string): void {
    if (rows.length) this.writes.push(this.write(task, rows));
  }

  /** Sends the buffered rows now without waiting, so the next task starts in the same workflow task. */
  flush(task: string): void {
    this.giveBack(this.rows.splice(0), task);
  }

  /** Since `closeloop.audit-rides` an audit write is never cancelled with the tasks that recorded it (cancel_running). */
  private write(task: string, rows: AuditRow[]): Promise<void> {
    return this.rides ? CancellationScope.nonCancellable(() => auditStore(task).recordAudit(rows)) : auditStore(task).recordAudit(rows);
  }

  /** Writes the buffered rows and the runs-index row in one local activity (no activity round trip). */
  async drainWithIndex(index: RunIndexRow): Promise<void> {
    const rows = this.rows.splice(0);
    await Promise.all([...this.writes.splice(0), auditStore('run').recordRun({ rows, index })]);
  }

  /** Writes what is buffered and waits for every audit write: before a run waits, continues or ends. */
  async drain(task: string): Promise<void> {
    this.flush(task);
    await Promise.all(this.writes.splice(0));
  }
}
