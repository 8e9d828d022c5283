import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { rowsOf, type Store } from './db.js';
import type { EventEnvelope } from '../dsl/strategy-match.js';
import { events } from './schema.js';
import { GroupCommit } from './group-commit.js';

export type EventStatus = 'received' | 'accepted' | 'started' | 'unmatched' | 'failed';
export type EventRow = typeof events.$inferSelect;
type Accepted = { strategyId: string; strategyVersion: number; executionId: string; launch: InboxLaunch };
type Claim = Accepted & { event: EventEnvelope; key: string; transport: string; bodyHash: string };

/** The run an accepted event starts: everything the dispatcher needs, fixed when the strategy matched. */
export interface InboxLaunch {
  workflow: string;
  parameters: unknown;
  startedBy: string;
  traceId: string;
  strategy: string;
  event: unknown;
  permissions?: string[];
  /** The task queue of the process that accepted the event (all processes of one deployment share it). */
  taskQueue: string;
  /** The strategies that were candidates, in precedence order, and why each did or did not match. */
  candidates?: unknown[];
}

export class EventRepo {
  private readonly db: Store['db'];
  constructor(private readonly store: Store) {
    this.db = store.db;
  }

  /** Stores the event before anything else happens; returns the earlier row when the key was seen before. */
  async claim(event: EventEnvelope, key: string, transport: string, bodyHash: string): Promise<{ fresh: boolean; row: EventRow }> {
    const [row] = await this.db
      .insert(events)
      .values({ tenant: event.tenant, idempotencyKey: key, id: event.id, type: event.type, envelope: event, transport, bodyHash, status: 'received' })
      .onConflictDoNothing()
      .returning();
    if (row) return { fresh: true, row };
    return { fresh: false, row: await this.earlier(event.tenant, key) };
  }

  /**
   * An event matched already, stored straight into the inbox: null when it is new, else the row
   * stored first under its key. Events arriving together are stored in one statement.
   */
  async claimAccepted(event: EventEnvelope, key: string, transport: string, bodyHash: string, accepted: Accepted): Promise<EventRow | null> {
    const fresh = await this.claims.submit({ event, key, transport, bodyHash, ...accepted });
    return fresh ? null : this.earlier(event.tenant, key);
  }

  private readonly claims = new GroupCommit<Claim, boolean>(async (list) => {
    const rows = list.map((c) => ({
      tenant: c.event.tenant,
      idempotency_key: c.key,
      id: c.event.id,
      type: c.event.type,
      envelope: c.event,
      transport: c.transport,
      body_hash: c.bodyHash,
      strategy_id: c.strategyId,
      strategy_version: c.strategyVersion,
      execution_id: c.executionId,
      launch: c.launch,
    }));
    const stored = await rowsOf<{ tenant: string; idempotency_key: string }>(
      this.store,
      sql`INSERT INTO events (tenant, idempotency_key, id, type, envelope, transport, body_hash, status, strategy_id, strategy_version, execution_id, launch)
        SELECT r.tenant, r.idempotency_key, r.id, r.type, r.envelope, r.transport, r.body_hash, 'accepted', r.strategy_id, r.strategy_version, r.execution_id, r.launch
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(tenant text, idempotency_key text, id text, type text, envelope jsonb, transport text,
          body_hash text, strategy_id text, strategy_version integer, execution_id text, launch jsonb)
        ON CONFLICT DO NOTHING RETURNING tenant, idempotency_key`,
    );
    // of two events with one key in one statement, the first is stored; the second is its duplicate
    const fresh = new Set(stored.map((r) => JSON.stringify([r.tenant, r.idempotency_key])));
    return list.map((c) => fresh.delete(JSON.stringify([c.event.tenant, c.key])));
  });

  private async earlier(tenant: string, key: string): Promise<EventRow> {
    const existing = await this.byKey(tenant, key);
    if (!existing) throw new Error(`event (${tenant}, ${key}) vanished after a conflicting insert`);
    return existing;
  }

  async byKey(tenant: string, key: string): Promise<EventRow | null> {
    const [row] = await this.db
      .select()
      .from(events)
      .where(and(eq(events.tenant, tenant), eq(events.idempotencyKey, key)));
    return row ?? null;
  }

  async byId(tenant: string, id: string): Promise<EventRow | null> {
    const [row] = await this.db
      .select()
      .from(events)
      .where(and(eq(events.tenant, tenant), eq(events.id, id)))
      .limit(1);
    return row ?? null;
  }

  /** Events of the last day by the strategy version that took them (`null`: no strategy matched). */
  async hits(tenant: string): Promise<{ strategy: string | null; n: number }[]> {
    const rows = await rowsOf<{ strategy: string | null; n: string }>(
      this.store,
      sql`SELECT CASE WHEN strategy_id IS NULL THEN NULL ELSE strategy_id || '@' || strategy_version END AS strategy, count(*) AS n
          FROM events WHERE tenant = ${tenant} AND received_at > now() - interval '24 hours' GROUP BY 1`,
    );
    return rows.map((r) => ({ strategy: r.strategy, n: Number(r.n) }));
  }

  /** A tenant's events, newest first (`before`: an earlier page's last `received_at`). */
  async list(tenant: string, opts: { status?: string; before?: string; limit: number }): Promise<EventRow[]> {
    return this.db
      .select()
      .from(events)
      .where(
        and(eq(events.tenant, tenant), opts.status ? eq(events.status, opts.status) : undefined, opts.before ? lt(events.receivedAt, opts.before) : undefined),
      )
      .orderBy(desc(events.receivedAt))
      .limit(opts.limit);
  }

  async settle(
    tenant: string,
    key: string,
    outcome: { status: EventStatus; strategyId?: string | null; strategyVersion?: number | null; executionId?: string | null; error?: string | null },
  ): Promise<void> {
    await this.db
      .update(events)
      .set({
        status: outcome.status,
        strategyId: outcome.strategyId ?? null,
        strategyVersion: outcome.strategyVersion ?? null,
        executionId: outcome.executionId ?? null,
        error: outcome.error ?? null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(events.tenant, tenant), eq(events.idempotencyKey, key)));
  }

  /** Matched: the event waits in the inbox with its launch request; answered `accepted` from here on. */
  async accept(tenant: string, key: string, m: { strategyId: string; strategyVersion: number; executionId: string; launch: InboxLaunch }): Promise<void> {
    await this.db
      .update(events)
      .set({
        status: 'accepted',
        strategyId: m.strategyId,
        strategyVersion: m.strategyVersion,
        executionId: m.executionId,
        launch: m.launch,
        leaseUntil: null,
        error: null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(events.tenant, tenant), eq(events.idempotencyKey, key)));
  }

  /** Events whose runs started (or already existed), in one statement: a batch of the inbox dispatcher. */
  async startedMany(list: { tenant: string; key: string; executionId: string }[]): Promise<void> {
    if (!list.length) return;
    const values = sql.join(
      list.map((e) => sql`(${e.tenant}, ${e.key}, ${e.executionId})`),
      sql`, `,
    );
    await this.db.execute(
      sql`UPDATE events SET status = 'started', execution_id = v.execution_id, error = NULL, updated_at = now()
          FROM (VALUES ${values}) AS v(tenant, idempotency_key, execution_id)
          WHERE events.tenant = v.tenant AND events.idempotency_key = v.idempotency_key`,
    );
  }

  /** Leases up to `limit` accepted events no one holds, oldest first; another process skips them (SKIP LOCKED). */
  async lease(limit: number, seconds: number, tenants: string[]): Promise<EventRow[]> {
    if (!tenants.length) return [];
    return this.db
      .update(events)
      .set({ leaseUntil: sql`now() + make_interval(secs => ${seconds})`, attempts: sql`${events.attempts} + 1` })
      .where(
        sql`(${events.tenant}, ${events.idempotencyKey}) IN (
          SELECT tenant, idempotency_key FROM events
          WHERE status = 'accepted' AND (lease_until IS NULL OR lease_until < now()) AND ${inArray(events.tenant, tenants)}
          ORDER BY received_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)`,
      )
      .returning();
  }

  /** A failed start waits `seconds` before the next try (the lease is the retry clock). */
  async retryLater(tenant: string, key: string, seconds: number, error: string): Promise<void> {
    await this.db
      .update(events)
      .set({ leaseUntil: sql`now() + make_interval(secs => ${seconds})`, error, updatedAt: sql`now()` })
      .where(and(eq(events.tenant, tenant), eq(events.idempotencyKey, key), eq(events.status, 'accepted')));
  }

  /** The inbox backlog (accepted events not started yet, and the age of the oldest in seconds) of these tenants: an event of a tenant no process serves any more waits without blocking the others. */
  async backlog(tenants: string[]): Promise<{ count: number; oldestSeconds: number }> {
    if (!tenants.length) return { count: 0, oldestSeconds: 0 };
    const [r] = await rowsOf<{ n: string; age: number | null }>(
      this.store,
      sql`SELECT count(*) AS n, extract(epoch FROM now() - min(received_at))::float8 AS age FROM events WHERE status = 'accepted' AND ${inArray(events.tenant, tenants)}`,
    );
    return { count: Number(r?.n ?? 0), oldestSeconds: Number(r?.age ?? 0) };
  }

  /** Events stored and never routed (their process stopped mid-request), older than `seconds`, of these tenants. */
  async stale(seconds: number, tenants: string[], limit = 100): Promise<EventRow[]> {
    if (!tenants.length) return [];
    return this.db
      .select()
      .from(events)
      .where(and(eq(events.status, 'received'), lt(events.receivedAt, sql`now() - make_interval(secs => ${seconds})`), inArray(events.tenant, tenants)))
      .orderBy(events.receivedAt)
      .limit(limit);
  }
}
