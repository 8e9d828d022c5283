// The embedded database across processes. PGlite lives in one process (`npm start`'s), so the worker
// process sends its statements there over the IPC channel and the holder runs them one at a time.
// Activities use no transactions, so one statement per message is all they need.
import type { ChildProcess } from 'node:child_process';
import { drizzle } from 'drizzle-orm/pg-proxy';
import type { Db, Store } from './db.js';
import { schema } from './schema.js';

interface DbRequest {
  type: 'db';
  id: number;
  sql: string;
  params: unknown[];
  method: 'all' | 'execute';
}
interface DbReply {
  type: 'db:reply';
  id: number;
  rows?: unknown[];
  error?: { message: string; code?: string };
}

const isRequest = (m: unknown): m is DbRequest => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'db';
const isReply = (m: unknown): m is DbReply => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'db:reply';

/** In the process that holds PGlite: answers a child's statements (the child needs `serialization: 'advanced'`). */
export function serveStore(child: ChildProcess, store: Store): void {
  const query = store.query;
  if (!query) throw new Error('serveStore: only the embedded database is served over IPC; give the worker DATABASE_URL instead');
  child.on('message', (m: unknown) => {
    if (!isRequest(m)) return;
    query(m.sql, m.params, m.method === 'all' ? 'array' : 'object').then(
      (rows) => reply(child, { type: 'db:reply', id: m.id, rows }),
      (err: unknown) => {
        const e = err as { message?: string; code?: unknown };
        reply(child, { type: 'db:reply', id: m.id, error: { message: e.message ?? String(err), ...(typeof e.code === 'string' ? { code: e.code } : {}) } });
      },
    );
  });
}

function reply(child: ChildProcess, message: DbReply): void {
  // a child that died mid-statement gets no answer: its activity is retried by Temporal elsewhere
  if (child.connected) child.send(message, (err) => void err);
}

/** In the worker process: a store whose every statement goes to the parent over IPC. */
export function openIpcStore(): Store {
  if (!process.send) throw new Error('openIpcStore: this process has no IPC channel (start it with child_process.fork)');
  const pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (err: Error) => void }>();
  let next = 0;
  const onMessage = (m: unknown) => {
    if (!isReply(m)) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {}));
    else p.resolve(m.rows ?? []);
  };
  process.on('message', onMessage);
  const db = drizzle(
    (sql, params, method) =>
      new Promise<{ rows: unknown[] }>((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve: (rows) => resolve({ rows }), reject });
        process.send!({ type: 'db', id, sql, params, method } satisfies DbRequest, (err: Error | null) => {
          if (!err) return;
          pending.delete(id);
          reject(err);
        });
      }),
    { schema },
  ) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    exec: () => Promise.reject(new Error('migrations run in the process that holds the embedded database')),
    close: async () => {
      process.off('message', onMessage);
      for (const p of pending.values()) p.reject(new Error('the store is closed'));
      pending.clear();
    },
  };
}
