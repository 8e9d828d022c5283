// What the configuration files give the other parts (workers/ loads them): tenants and keys, pack contents, plugins.
import type { ActionDef } from '../dsl/actions.js';

export type Role = 'viewer' | 'operator' | 'approver' | 'admin';

export interface ApiKey {
  id: string;
  tenant: string;
  hash: string;
  roles: Role[];
}

export interface Tenant {
  id: string;
  name: string;
  status: 'active' | 'disabled';
  signingSecret: string | null;
  /** Event intake limit: `rate` events/s sustained, `burst` at once (tenants.yaml `rate_limit`). */
  rateLimit?: { rate: number; burst: number };
}

export interface TenantConfig {
  tenants: Map<string, Tenant>;
  keys: ApiKey[];
}

export interface PackContents {
  actions: Map<string, ActionDef>;
  config: Map<string, Record<string, unknown>>;
}

export interface PluginDef {
  id: string;
  base_url: string;
  auth?: { type: 'bearer'; secret: string };
  timeout?: number;
  allowed_tenants?: string[];
}
