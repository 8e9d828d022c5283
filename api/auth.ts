import type { RequestHandler } from 'express';
import { hashKey } from '../workers/config.js';
import type { ApiKey, Role, TenantConfig } from '../contracts/config.js';
import { ApiError } from './errors.js';

export interface Principal {
  tenant: string;
  keyId: string;
  roles: Role[];
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, approver: 1, admin: 2 };

/** Bearer API keys, compared by hash; the key's tenant scopes every request. */
export function authenticate(config: () => TenantConfig): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m?.[1]) return next(new ApiError(401, 'unauthenticated', 'missing bearer API key (Authorization: Bearer <key>)'));
    const hash = hashKey(m[1].trim());
    const { keys, tenants } = config();
    const key: ApiKey | undefined = keys.find((k) => k.hash === hash);
    if (!key || tenants.get(key.tenant)?.status !== 'active') return next(new ApiError(401, 'unauthenticated', 'unknown API key or inactive tenant'));
    req.principal = { tenant: key.tenant, keyId: key.id, roles: key.roles };
    next();
  };
}

/** Route guard: `operator` may run things, `viewer` only reads; `admin` may do everything. */
export function requireRole(role: Role): RequestHandler {
  // the role is readable on the handler so the OpenAPI check can compare it with the document
  const guard: RequestHandler & { requiredRole?: Role } = (req, _res, next) => {
    const roles = req.principal?.roles ?? [];
    const ok = roles.includes('admin') || roles.includes(role) || (role === 'viewer' && roles.some((r) => RANK[r] >= 0));
    next(ok ? undefined : new ApiError(403, 'forbidden', `this key lacks the '${role}' role`));
  };
  guard.requiredRole = role;
  return guard;
}
