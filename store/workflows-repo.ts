import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { CompiledWorkflow } from '../dsl/types.js';
import type { Db } from './db.js';
import { workflowDefinitions } from './schema.js';

/** Workflows shipped in config packs belong to every tenant. */
export const SHARED_TENANT = '*';

export interface StoredWorkflow {
  tenant: string;
  ref: string;
  version: string;
  yaml: string;
  compiled: CompiledWorkflow;
  createdAt: string;
}

function semverKey(v: string): number[] {
  return v
    .split(/[.+-]/)
    .slice(0, 3)
    .map((x) => Number(x) || 0);
}
export function compareVersions(a: string, b: string): number {
  const ka = semverKey(a);
  const kb = semverKey(b);
  for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return (ka[i] ?? 0) - (kb[i] ?? 0);
  return 0;
}

export class WorkflowRepo {
  constructor(private readonly db: Db) {}

  /** Stores a version. Returns 'exists' when the same version is already there with the same YAML, 'conflict' when different. */
  async register(tenant: string, wf: CompiledWorkflow, yaml: string, by: string | null): Promise<'created' | 'exists' | 'conflict'> {
    const existing = await this.get(tenant, wf.ref, wf.version, { exactTenant: true });
    if (existing) return existing.yaml === yaml ? 'exists' : 'conflict';
    await this.db.insert(workflowDefinitions).values({ tenant, ref: wf.ref, version: wf.version, yaml, compiled: wf, createdBy: by }).onConflictDoNothing();
    return 'created';
  }

  /** The given version, or the highest semver version; the tenant's own first, then shared packs. */
  async get(tenant: string, ref: string, version?: string, opts: { exactTenant?: boolean } = {}): Promise<StoredWorkflow | null> {
    const tenants = opts.exactTenant ? [tenant] : [tenant, SHARED_TENANT];
    const rows = await this.db
      .select()
      .from(workflowDefinitions)
      .where(
        and(
          inArray(workflowDefinitions.tenant, tenants),
          eq(workflowDefinitions.ref, ref),
          isNull(workflowDefinitions.deletedAt),
          version ? eq(workflowDefinitions.version, version) : undefined,
        ),
      );
    if (!rows.length) return null;
    const own = rows.filter((r) => r.tenant === tenant);
    const pool = own.length ? own : rows;
    pool.sort((a, b) => compareVersions(b.version, a.version));
    const r = pool[0]!;
    return { tenant: r.tenant, ref: r.ref, version: r.version, yaml: r.yaml, compiled: r.compiled as CompiledWorkflow, createdAt: r.createdAt };
  }

  async versions(tenant: string, ref: string): Promise<{ version: string; createdAt: string; tenant: string }[]> {
    const rows = await this.db
      .select({ version: workflowDefinitions.version, createdAt: workflowDefinitions.createdAt, tenant: workflowDefinitions.tenant })
      .from(workflowDefinitions)
      .where(and(inArray(workflowDefinitions.tenant, [tenant, SHARED_TENANT]), eq(workflowDefinitions.ref, ref), isNull(workflowDefinitions.deletedAt)))
      .orderBy(desc(workflowDefinitions.createdAt));
    return rows.sort((a, b) => compareVersions(b.version, a.version));
  }

  /** Latest version of every workflow the tenant can run. */
  async list(tenant: string): Promise<{ ref: string; version: string; label: string | null; shared: boolean }[]> {
    const rows = await this.db
      .select({
        ref: workflowDefinitions.ref,
        version: workflowDefinitions.version,
        tenant: workflowDefinitions.tenant,
        compiled: workflowDefinitions.compiled,
      })
      .from(workflowDefinitions)
      .where(and(inArray(workflowDefinitions.tenant, [tenant, SHARED_TENANT]), isNull(workflowDefinitions.deletedAt)));
    const latest = new Map<string, (typeof rows)[number]>();
    for (const r of rows) {
      const cur = latest.get(r.ref);
      if (!cur || (cur.tenant === SHARED_TENANT && r.tenant === tenant) || (cur.tenant === r.tenant && compareVersions(r.version, cur.version) > 0))
        latest.set(r.ref, r);
    }
    return [...latest.values()]
      .map((r) => ({ ref: r.ref, version: r.version, label: (r.compiled as CompiledWorkflow).label ?? null, shared: r.tenant === SHARED_TENANT }))
      .sort((a, b) => a.ref.localeCompare(b.ref));
  }

  async knownRefs(tenant: string): Promise<Set<string>> {
    return new Set((await this.list(tenant)).map((w) => w.ref));
  }

  /** Soft delete: running executions keep their pinned definition; history stays readable. */
  async remove(tenant: string, ref: string): Promise<number> {
    const rows = await this.db
      .update(workflowDefinitions)
      .set({ deletedAt: new Date().toISOString() })
      .where(and(eq(workflowDefinitions.tenant, tenant), eq(workflowDefinitions.ref, ref), isNull(workflowDefinitions.deletedAt)))
      .returning({ v: workflowDefinitions.version });
    return rows.length;
  }
}
