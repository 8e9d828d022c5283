import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import stableStringify from 'fast-json-stable-stringify';
import type { Strategy, StrategyStatus } from '../dsl/strategy.js';
import type { Db } from './db.js';
import { strategies } from './schema.js';

/** Strategies from config/ belong to every tenant; API-created ones to the tenant that wrote them. */
export const SHARED_OWNER = '*';
export type StrategyRow = typeof strategies.$inferSelect;

export class StrategyConflict extends Error {
  override readonly name = 'StrategyConflict';
  constructor(
    message: string,
    readonly status: 404 | 403 | 409 = 409,
  ) {
    super(message);
  }
}

const asStrategy = (r: StrategyRow): Strategy => ({ ...(r.definition as Strategy), id: r.id, version: r.version, status: r.status as StrategyStatus });

export class StrategyRepo {
  constructor(private readonly db: Db) {}

  /** Every active version (the matching index is built from these). */
  async active(): Promise<Strategy[]> {
    return (await this.db.select().from(strategies).where(eq(strategies.status, 'active'))).map(asStrategy);
  }

  /** Changes whenever any strategy row changes: a cheap staleness check for cached indexes. */
  async fingerprint(): Promise<string> {
    const [r] = await this.db.select({ n: sql<number>`count(*)`, at: sql<string>`max(updated_at)` }).from(strategies);
    return `${r?.n ?? 0}:${r?.at ?? ''}`;
  }

  async list(tenant: string): Promise<StrategyRow[]> {
    return this.db
      .select()
      .from(strategies)
      .where(inArray(strategies.owner, [tenant, SHARED_OWNER]))
      .orderBy(strategies.id, desc(strategies.version));
  }

  async get(tenant: string, id: string, version?: number): Promise<StrategyRow | null> {
    const rows = await this.db
      .select()
      .from(strategies)
      .where(and(eq(strategies.id, id), inArray(strategies.owner, [tenant, SHARED_OWNER]), version === undefined ? undefined : eq(strategies.version, version)))
      .orderBy(desc(strategies.version))
      .limit(1);
    return rows[0] ?? null;
  }

  /** Config strategies are inserted once per (id, version); the database then owns their lifecycle. */
  async syncFromConfig(list: Strategy[]): Promise<{ inserted: number; changed: string[] }> {
    let inserted = 0;
    const changed: string[] = [];
    for (const s of list) {
      const [row] = await this.db
        .insert(strategies)
        .values({
          id: s.id,
          version: s.version,
          owner: SHARED_OWNER,
          status: s.status,
          definition: s,
          origin: 'config',
          createdBy: 'config',
          activatedAt: s.status === 'active' ? sql`now()` : null,
        })
        .onConflictDoNothing()
        .returning({ id: strategies.id });
      if (row) {
        inserted++;
        if (s.status === 'active') await this.supersede(s.id, s.version);
      } else {
        const [cur] = await this.db
          .select()
          .from(strategies)
          .where(and(eq(strategies.owner, SHARED_OWNER), eq(strategies.id, s.id), eq(strategies.version, s.version)));
        // key order is not meaning: jsonb stores keys in its own order
        if (cur && stableStringify({ ...(cur.definition as Strategy), status: 0 }) !== stableStringify({ ...s, status: 0 }))
          changed.push(`${s.id}@${s.version}`);
      }
    }
    return { inserted, changed };
  }

  /** A new version, always a draft; its number is one past the highest. */
  async createDraft(tenant: string, s: Strategy, by: string): Promise<StrategyRow> {
    return this.db.transaction(async (tx) => {
      // ids are per tenant (another tenant's ids are neither visible nor taken); config's shared ids are public
      const existing = await tx
        .select()
        .from(strategies)
        .where(and(eq(strategies.id, s.id), inArray(strategies.owner, [tenant, SHARED_OWNER])))
        .orderBy(desc(strategies.version))
        .for('update');
      if (existing.some((e) => e.owner !== tenant)) throw new StrategyConflict(`strategy id '${s.id}' is a shared strategy from config/; choose another id`);
      const version = (existing[0]?.version ?? 0) + 1;
      const definition: Strategy = { ...s, version, status: 'draft', tenants: tenant === SHARED_OWNER ? s.tenants : [tenant] };
      const [row] = await tx
        .insert(strategies)
        .values({ id: s.id, version, owner: tenant, status: 'draft', definition, origin: 'api', createdBy: by })
        .returning();
      return row!;
    });
  }

  async approve(tenant: string, id: string, version: number, by: string): Promise<StrategyRow> {
    const row = await this.mine(tenant, id, version);
    if (row.status !== 'draft') throw new StrategyConflict(`strategy '${id}@${version}' is ${row.status}; only a draft can be approved`);
    if (row.createdBy === by) throw new StrategyConflict(`strategy '${id}@${version}' was written by '${by}': a different identity must approve it`, 403);
    const [out] = await this.db
      .update(strategies)
      .set({ status: 'approved', approvedBy: by, updatedAt: sql`now()` })
      .where(and(eq(strategies.owner, tenant), eq(strategies.id, id), eq(strategies.version, version)))
      .returning();
    return out!;
  }

  /** Makes an approved version the active one; the version it replaces is remembered for rollback. */
  async activate(tenant: string, id: string, version: number): Promise<StrategyRow> {
    const row = await this.mine(tenant, id, version);
    if (row.status !== 'approved') throw new StrategyConflict(`strategy '${id}@${version}' is ${row.status}; approve it before activating`);
    return this.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(strategies)
        .where(and(eq(strategies.owner, tenant), eq(strategies.id, id), eq(strategies.status, 'active')))
        .for('update');
      if (current)
        await tx
          .update(strategies)
          .set({ status: 'disabled', updatedAt: sql`now()` })
          .where(and(eq(strategies.owner, tenant), eq(strategies.id, id), eq(strategies.version, current.version)));
      const [out] = await tx
        .update(strategies)
        .set({ status: 'active', activatedAt: sql`now()`, previousActive: current?.version ?? null, updatedAt: sql`now()` })
        .where(and(eq(strategies.owner, tenant), eq(strategies.id, id), eq(strategies.version, version)))
        .returning();
      return out!;
    });
  }

  /** Disables the active version and re-activates the one it replaced. */
  async rollback(tenant: string, id: string): Promise<{ from: number; to: number }> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(strategies)
        .where(and(eq(strategies.id, id), eq(strategies.status, 'active'), inArray(strategies.owner, [tenant, SHARED_OWNER])))
        .for('update');
      if (!current) throw new StrategyConflict(`strategy '${id}' has no active version to roll back`, 404);
      if (current.owner !== tenant && tenant !== SHARED_OWNER)
        throw new StrategyConflict(`strategy '${id}' comes from config/ and is shared: change it there`, 403);
      if (current.previousActive === null)
        throw new StrategyConflict(`strategy '${id}@${current.version}' replaced no earlier version; nothing to roll back to`);
      await tx
        .update(strategies)
        .set({ status: 'disabled', updatedAt: sql`now()` })
        .where(and(eq(strategies.owner, current.owner), eq(strategies.id, id), eq(strategies.version, current.version)));
      await tx
        .update(strategies)
        .set({ status: 'active', activatedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(strategies.owner, current.owner), eq(strategies.id, id), eq(strategies.version, current.previousActive)));
      return { from: current.version, to: current.previousActive };
    });
  }

  /** A config file shipped a new active version: the older active one steps down (and is the rollback target). */
  private async supersede(id: string, version: number): Promise<void> {
    const others = await this.db
      .select({ v: strategies.version })
      .from(strategies)
      .where(and(eq(strategies.owner, SHARED_OWNER), eq(strategies.id, id), eq(strategies.status, 'active')));
    const prev = others
      .map((o) => o.v)
      .filter((v) => v !== version)
      .sort((a, b) => b - a)[0];
    if (prev === undefined) return;
    await this.db
      .update(strategies)
      .set({ status: 'disabled', updatedAt: sql`now()` })
      .where(and(eq(strategies.owner, SHARED_OWNER), eq(strategies.id, id), eq(strategies.status, 'active'), sql`${strategies.version} <> ${version}`));
    await this.db
      .update(strategies)
      .set({ previousActive: prev })
      .where(and(eq(strategies.owner, SHARED_OWNER), eq(strategies.id, id), eq(strategies.version, version)));
  }

  private async mine(tenant: string, id: string, version: number): Promise<StrategyRow> {
    const row = await this.get(tenant, id, version);
    if (!row) throw new StrategyConflict(`strategy '${id}@${version}' not found`, 404);
    if (row.owner !== tenant) throw new StrategyConflict(`strategy '${id}' comes from config/ and is shared: change it there`, 403);
    return row;
  }
}
