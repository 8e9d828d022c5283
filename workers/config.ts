import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { parse } from 'yaml';
import { formatDiagnostic, validateWorkflow, type CompiledWorkflow, type Limits } from '../dsl/index.js';
import { parseActionDef, type ActionDef } from '../dsl/actions.js';
import type { ApiKey, PackContents, PluginDef, Role, Tenant, TenantConfig } from '../contracts/config.js';
export type { ApiKey, PackContents, PluginDef, Role, Tenant, TenantConfig } from '../contracts/config.js';

export const hashKey = (key: string) => `sha256:${createHash('sha256').update(key).digest('hex')}`;

type Secretish = string | { env: string; default?: string } | undefined;
function resolveSecret(v: Secretish, env: NodeJS.ProcessEnv): string | null {
  if (v === undefined) return null;
  if (typeof v === 'string') return v;
  return env[v.env] || v.default || null;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Loads config/tenants.yaml; keys are kept only as hashes. */
export async function loadTenants(configDir: string, env: NodeJS.ProcessEnv = process.env): Promise<TenantConfig> {
  const file = join(configDir, 'tenants.yaml');
  const raw = parse(await readFile(file, 'utf8')) as { tenants?: Record<string, unknown>[] } | null;
  const tenants = new Map<string, Tenant>();
  const keys: ApiKey[] = [];
  for (const [i, t] of (raw?.tenants ?? []).entries()) {
    if (typeof t.id !== 'string') throw new ConfigError(`${file}: tenants[${i}]: 'id' is required`);
    const rl = t.rate_limit as { per_second?: unknown; burst?: unknown } | undefined;
    if (rl !== undefined && (typeof rl !== 'object' || !(Number(rl.per_second) > 0)))
      throw new ConfigError(`${file}: tenants[${i}].rate_limit: needs per_second > 0 (and optionally burst)`);
    tenants.set(t.id, {
      id: t.id,
      name: String(t.name ?? t.id),
      status: t.status === 'disabled' ? 'disabled' : 'active',
      signingSecret: resolveSecret(t.signing_secret as Secretish, env),
      ...(rl ? { rateLimit: { rate: Number(rl.per_second), burst: Number(rl.burst ?? Number(rl.per_second) * 2) } } : {}),
    });
    for (const [j, k] of ((t.api_keys as Record<string, unknown>[] | undefined) ?? []).entries()) {
      const plain = resolveSecret(k.key as Secretish, env);
      const hash = typeof k.hash === 'string' ? k.hash : plain ? hashKey(plain) : null;
      if (!hash) throw new ConfigError(`${file}: tenants[${i}].api_keys[${j}]: needs 'hash' or 'key'`);
      keys.push({
        id: String(k.id ?? `key-${j}`),
        tenant: t.id,
        hash,
        roles: ((k.roles as Role[] | undefined) ?? ['viewer']).filter((r) => ['viewer', 'operator', 'approver', 'admin'].includes(r)),
      });
    }
  }
  return { tenants, keys };
}

async function yamlFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Pack actions (`packs/<pack>/actions/*.yaml`) and pack configuration (`packs/<pack>/config.yaml`); bad files reported and skipped. */
export async function loadPackContents(configDir: string, report: (line: string) => void = console.error): Promise<PackContents> {
  const packsDir = join(configDir, 'packs');
  const actions = new Map<string, ActionDef>();
  const config = new Map<string, Record<string, unknown>>();
  for (const pack of (await readdir(packsDir).catch(() => [] as string[])).sort()) {
    for (const file of await yamlFiles(join(packsDir, pack, 'actions'))) {
      const r = parseActionDef(await readFile(file, 'utf8'));
      const shown = relative(process.cwd(), file);
      for (const d of r.diagnostics) report(formatDiagnostic(shown, d));
      if (r.action && !r.action.ref.startsWith(`${pack}.`)) report(`${shown}:1:1: ref '${r.action.ref}' must start with the pack name '${pack}.'`);
      else if (r.action) actions.set(r.action.ref, r.action);
    }
    const cfgFile = join(packsDir, pack, 'config.yaml');
    const text = await readFile(cfgFile, 'utf8').catch(() => null);
    if (text !== null) {
      const value = parse(text) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value)) config.set(pack, value as Record<string, unknown>);
      else if (value !== null) report(`${relative(process.cwd(), cfgFile)}:1:1: must be a map of configuration values`);
    }
  }
  return { actions, config };
}

/** `secret: plugins.billing.token` reads CLOSELOOP_SECRET_PLUGINS_BILLING_TOKEN. */
export const secretFromEnv =
  (env: NodeJS.ProcessEnv = process.env) =>
  (name: string): string | undefined =>
    env[`CLOSELOOP_SECRET_${name.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`];

/** config/plugins.yaml: the plugin registry (secrets by reference, resolved only in activities). */
export async function loadPlugins(configDir: string): Promise<Map<string, PluginDef>> {
  const text = await readFile(join(configDir, 'plugins.yaml'), 'utf8').catch(() => null);
  const list = ((text ? (parse(text) as { plugins?: PluginDef[] } | null) : null)?.plugins ?? []).filter(
    (p) => p && typeof p.id === 'string' && typeof p.base_url === 'string',
  );
  return new Map(list.map((p) => [p.id, p]));
}

export interface PackWorkflow {
  file: string;
  yaml: string;
  workflow: CompiledWorkflow;
}

/** Validates every config/packs/<pack>/workflows/*.yaml; a bad file is reported and skipped. */
export async function loadPackWorkflows(
  configDir: string,
  actionRefs: ReadonlySet<string>,
  report: (line: string) => void = console.error,
  limits?: Limits,
): Promise<PackWorkflow[]> {
  const packsDir = join(configDir, 'packs');
  const out: PackWorkflow[] = [];
  const packs = await readdir(packsDir).catch(() => [] as string[]);
  const files: string[] = [];
  for (const pack of packs.sort()) {
    const dir = join(packsDir, pack, 'workflows');
    for (const f of (await readdir(dir).catch(() => [] as string[])).sort()) if (/\.ya?ml$/.test(f)) files.push(join(dir, f));
  }
  const refs = new Set<string>(actionRefs);
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  // a file without a ref of its own (Orquesta's, Attune's) is <pack>.<file stem>
  const packRef = (file: string) => `${basename(dirname(dirname(file)))}.${basename(file).replace(/\.ya?ml$/, '')}`;
  texts.forEach((text, i) => refs.add(/^ref:\s*([a-z0-9_.]+)/m.exec(text)?.[1] ?? packRef(files[i]!)));
  files.forEach((file, i) => {
    const yaml = texts[i]!;
    const r = validateWorkflow(yaml, { isKnownAction: (ref) => refs.has(ref), dialect: { ref: packRef(file) }, ...(limits ? { limits } : {}) });
    for (const d of r.diagnostics) report(formatDiagnostic(relative(process.cwd(), file), d));
    if (r.workflow) out.push({ file, yaml, workflow: r.workflow });
  });
  return out;
}
