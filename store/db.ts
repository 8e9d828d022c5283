import { readdir, readFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { schema } from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Store {
  db: Db;
  /** Runs raw SQL (several statements allowed) in one transaction: used by migrations only. */
  exec(sqlText: string): Promise<void>;
  close(): Promise<void>;
  kind: 'postgres' | 'pglite';
  /**
   * Embedded PGlite only: one raw statement with parameters, rows as arrays or objects. The worker
   * process of `npm start` reaches the embedded database through this (store/ipc-store.ts).
   */
  query?(sqlText: string, params: unknown[], rowMode: 'array' | 'object'): Promise<unknown[]>;
}

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/** `postgres` when a URL is given, otherwise embedded PGlite (a directory, or in memory with `memory://`). */
export async function openStore(opts: { databaseUrl?: string; pgliteDir?: string }): Promise<Store> {
  if (opts.databaseUrl) {
    const { default: postgres } = await import('postgres');
    const { drizzle } = await import('drizzle-orm/postgres-js');
    // a database that does not answer fails a query in seconds, not after the OS's TCP timeout
    const client = postgres(opts.databaseUrl, { max: 10, onnotice: () => {}, connect_timeout: 2 });
    const db = drizzle(client, { schema }) as unknown as Db;
    return { db, kind: 'postgres', exec: async (text) => void (await client.begin((tx) => tx.unsafe(text))), close: () => client.end({ timeout: 5 }) };
  }
  const { PGlite, types } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const dir = opts.pgliteDir ?? 'memory://';
  if (!dir.startsWith('memory://')) await mkdir(dir, { recursive: true });
  const client = new PGlite(dir);
  const db = drizzle(client, { schema }) as unknown as Db;
  // timestamps, dates and intervals stay text, as drizzle's own PGlite session reads them
  const asText = Object.fromEntries([types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE].map((t) => [t, (v: string) => v]));
  return {
    db,
    kind: 'pglite',
    exec: async (text) => void (await client.transaction((tx) => tx.exec(text))),
    close: () => client.close(),
    query: async (text, params, rowMode) => (await client.query(text, params, { rowMode, parsers: asText })).rows,
  };
}

/** Applies migrations/*.sql in name order, once each, forward only. Returns the names applied now. */
export async function migrate(store: Store): Promise<string[]> {
  // under the same lock as the migrations: processes starting at once on an empty database would
  // otherwise race on creating this table (a unique violation in pg_type)
  await store.exec(
    `SELECT pg_advisory_xact_lock(7262001);\nCREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`,
  );
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  const done = new Set((await rowsOf<{ name: string }>(store, sql`SELECT name FROM schema_migrations`)).map((r) => r.name));
  const applied: string[] = [];
  for (const f of files) {
    if (done.has(f)) continue;
    const text = await readFile(join(MIGRATIONS_DIR, f), 'utf8');
    // the transaction-scoped lock serialises concurrent starters; one that finds the file applied
    // meanwhile (by another process) rolls back instead of running it again
    const name = f.replace(/'/g, "''");
    const already = `DO $$ BEGIN IF EXISTS (SELECT 1 FROM schema_migrations WHERE name = '${name}') THEN RAISE EXCEPTION 'closeloop: already applied'; END IF; END $$;`;
    try {
      await store.exec(`SELECT pg_advisory_xact_lock(7262001);\n${already}\n${text}\nINSERT INTO schema_migrations (name) VALUES ('${name}');`);
    } catch (err) {
      if (/closeloop: already applied/.test(String((err as Error).message))) continue;
      throw err;
    }
    applied.push(f);
  }
  return applied;
}

/** Rows of a raw query: postgres-js returns an array, PGlite an object with `rows`. */
export async function rowsOf<T>(store: Store, query: SQL): Promise<T[]> {
  const r = (await store.db.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(r) ? r : r.rows;
}
