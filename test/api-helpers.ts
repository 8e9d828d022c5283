import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app.js';
import { hashKey, type Role, type TenantConfig } from '../workers/config.js';
import { afterAll, beforeAll } from 'vitest';
import { createHarness, type Harness } from './helpers.js';

/** One active tenant with one API key. */
export function singleTenant(tenant: string, key: string, keyId: string, roles: Role[]): TenantConfig {
  return {
    tenants: new Map([[tenant, { id: tenant, name: tenant, status: 'active', signingSecret: null }]]),
    keys: [{ id: keyId, tenant, hash: hashKey(key), roles }],
  };
}

/** The real API on a free loopback port, wired to the harness's Temporal client, store and task queue. */
export async function startApi(h: Harness, tenants: TenantConfig, opts: { bodyLimit?: string } = {}): Promise<{ base: string; close(): void }> {
  const server: Server = createApp({ store: h.store, client: h.client, tenants: () => tenants, taskQueue: h.taskQueue, ...opts }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => void server.close() };
}

/** Registers beforeAll/afterAll for a test harness and the API on top of it; `ready` receives both. */
export function useApi(tenants: TenantConfig, ready: (h: Harness, base: string) => void): void {
  let h: Harness | undefined;
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  beforeAll(async () => {
    h = await createHarness();
    api = await startApi(h, tenants);
    ready(h, api.base);
  });
  afterAll(async () => {
    api?.close();
    await h?.close();
  });
}
