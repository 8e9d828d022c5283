// Issue #16 item 6: four processes starting on an empty database at once all migrate it, none crashes.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from './database-url.js';

const ROOT = join(import.meta.dirname, '..');
const script = `
import { openStore, migrate } from './store/db.ts';
const store = await openStore({ databaseUrl: process.env.URL });
const applied = await migrate(store);
console.log(JSON.stringify(applied.length));
await store.close();
`;

function migrateIn(url: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, URL: url } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('migrations under concurrent starts', () => {
  it('four processes on an empty database: every one succeeds, every migration is applied once', { timeout: 120_000 }, async () => {
    const name = `race_${randomUUID().slice(0, 8)}`;
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    try {
      const results = await Promise.all(Array.from({ length: 4 }, () => migrateIn(url.toString())));
      for (const r of results) expect(r.code, r.out).toBe(0);
      const check = postgres(url.toString(), { max: 1, onnotice: () => {} });
      const rows = await check`SELECT name FROM schema_migrations`;
      await check.end();
      const files = (await import('node:fs')).readdirSync(join(ROOT, 'migrations')).filter((f) => f.endsWith('.sql'));
      expect(rows.map((r) => r.name).sort()).toEqual(files.sort());
      // together they applied each file exactly once
      expect(results.reduce((n, r) => n + Number(r.out.trim().split('\n').at(-1)), 0)).toBe(files.length);
    } finally {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
