import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { kv } from './schema.js';
import { isSealed, secretBox } from './secret-box.js';

export class KvRepo {
  constructor(private readonly db: Db) {}

  /** A secret is sealed (AES-256-GCM) before it is stored. */
  async put(tenant: string, key: string, plain: unknown, secret: boolean): Promise<void> {
    const value = secret ? secretBox().seal(plain) : plain;
    await this.db
      .insert(kv)
      .values({ tenant, key, value, secret })
      .onConflictDoUpdate({ target: [kv.tenant, kv.key], set: { value, secret, updatedAt: sql`now()` } });
  }

  /** Secret values are never returned. */
  async list(tenant: string): Promise<{ key: string; value: unknown; secret: boolean; updated_at: string }[]> {
    const rows = await this.db.select().from(kv).where(eq(kv.tenant, tenant)).orderBy(asc(kv.key));
    return rows
      .filter((r) => !r.key.startsWith('param:'))
      .map((r) => ({ key: r.key, value: r.secret ? '***' : r.value, secret: r.secret, updated_at: new Date(r.updatedAt).toISOString() }));
  }

  /** Re-seals every secret under the current key (after CLOSELOOP_SECRET_KEY changed; the old one in CLOSELOOP_SECRET_KEY_PREVIOUS). */
  async rotate(): Promise<{ resealed: number; current: number }> {
    const box = secretBox();
    let resealed = 0;
    let current = 0;
    for (const r of await this.db.select().from(kv).where(eq(kv.secret, true))) {
      if (isSealed(r.value) && r.value.kid === box.kid) {
        current++;
        continue;
      }
      await this.db
        .update(kv)
        .set({ value: box.seal(box.open(r.value)), updatedAt: sql`now()` })
        .where(and(eq(kv.tenant, r.tenant), eq(kv.key, r.key)));
      resealed++;
    }
    return { resealed, current };
  }

  async remove(tenant: string, key: string): Promise<boolean> {
    return (
      (
        await this.db
          .delete(kv)
          .where(and(eq(kv.tenant, tenant), eq(kv.key, key)))
          .returning({ k: kv.key })
      ).length > 0
    );
  }
}

/** The secret writer used by run starters: secret parameters are kept in kv, out of history (and dropped again when the start does not happen). */
export const secretWriter = (db: Db) =>
  Object.assign((tenant: string, key: string, value: unknown) => new KvRepo(db).put(tenant, key, value, true), {
    drop: async (tenant: string, key: string) => void (await new KvRepo(db).remove(tenant, key)),
  });
