import { and, eq, sql } from 'drizzle-orm';
import type { EventEnvelope } from '../dsl/strategy-match.js';
import type { Db } from './db.js';
import { events } from './schema.js';

export type EventStatus = 'received' | 'started' | 'unmatched' | 'failed';
export type EventRow = typeof events.$inferSelect;

export class EventRepo {
  constructor(private readonly db: Db) {}

  /** Stores the event before anything else happens; returns the earlier row when the key was seen before. */
  async claim(event: EventEnvelope, key: string, transport: string, bodyHash: string): Promise<{ fresh: boolean; row: EventRow }> {
    const [row] = await this.db
      .insert(events)
      .values({ tenant: event.tenant, idempotencyKey: key, id: event.id, type: event.type, envelope: event, transport, status: 'received', bodyHash })
      .onConflictDoNothing()
      .returning();
    if (row) return { fresh: true, row };
    const existing = await this.byKey(event.tenant, key);
    if (!existing) throw new Error(`event (${event.tenant}, ${key}) vanished after a conflicting insert`);
    return { fresh: false, row: existing };
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
}
