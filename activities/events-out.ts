import { toStorable } from '../dsl/text.js';
import { inArray, sql } from 'drizzle-orm';
import type { Store } from '../store/db.js';
import { eventsOut } from '../store/schema.js';

/** Publishes one event on the bus (subject = type); absent when no bus is configured. */
export type Publisher = (type: string, event: Record<string, unknown>) => Promise<void>;

export interface OutEvent {
  /** Unique per occurrence (a retried activity must not emit twice). */
  key: string;
  tenant: string;
  type: string;
  payload: Record<string, unknown>;
}

/** Records events out (once per key) and publishes the new ones; a failed publish leaves published_at empty. */
export async function emitEvents(store: Store, publish: Publisher | undefined, list: OutEvent[]): Promise<void> {
  if (!list.length) return;
  const fresh = await store.db
    .insert(eventsOut)
    .values(list.map((e) => ({ key: toStorable(e.key) as string, tenant: e.tenant, type: e.type, payload: toStorable(e.payload) as Record<string, unknown> })))
    .onConflictDoNothing()
    .returning({ id: eventsOut.id, key: eventsOut.key, createdAt: eventsOut.createdAt });
  await publishFresh(store, publish, list, fresh);
}

/** Publishes the events out written just now (`fresh`: their rows) and marks them published. */
export async function publishFresh(
  store: Store,
  publish: Publisher | undefined,
  list: OutEvent[],
  fresh: { id: number; key: string; createdAt: string }[],
): Promise<void> {
  if (!publish || !fresh.length) return;
  const published: number[] = [];
  for (const row of fresh) {
    const e = list.find((x) => x.key === row.key)!;
    try {
      await publish(e.type, { id: `out_${row.id}`, type: e.type, tenant: e.tenant, occurred_at: row.createdAt, payload: e.payload });
      published.push(row.id);
    } catch {
      // the database row stays unpublished; the bus is best effort, the record is not
    }
  }
  if (published.length)
    await store.db
      .update(eventsOut)
      .set({ publishedAt: sql`now()` })
      .where(inArray(eventsOut.id, published));
}
