import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { parse } from 'yaml';
import { formatDiagnostic, validateWorkflow, type CompiledWorkflow, type Limits } from '../dsl/index.js';
import type { DialectOptions } from '../dsl/dialects/index.js';
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
      const text = await readFile(file, 'utf8');
      if (workflowActionOf(text)) continue; // an Attune workflow action: its workflow is a pack workflow
      const r = parseActionDef(text);
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
  /** What the file does not say itself: its ref, and an Attune action file's parameters and output. */
  dialect: DialectOptions;
}

/** Attune's workflow action: an action file whose `workflow_file` (relative to `actions/`) holds the graph; its ref, label, parameters and output are the workflow's. */
export function workflowActionOf(text: string): { file: string; ref?: string; meta: Record<string, unknown> } | null {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return null;
  }
  if (!doc || typeof doc !== 'object' || typeof (doc as { workflow_file?: unknown }).workflow_file !== 'string') return null;
  const d = doc as Record<string, unknown>;
  const meta = Object.fromEntries(['label', 'description', 'parameters', 'output'].filter((k) => d[k] !== undefined).map((k) => [k, d[k]]));
  return { file: String(d.workflow_file), ...(typeof d.ref === 'string' ? { ref: d.ref } : {}), meta };
}

/** Validates every config/packs/<pack>/workflows/*.yaml; a bad file is reported and skipped. */
export async function loadPackWorkflows(
  configDir: string,
  actionRefs: ReadonlySet<string>,
  report: (line: string) => void = console.error,
  limits?: Limits,
): Promise<PackWorkflow[]> {
  const out: PackWorkflow[] = [];
  const files = await packWorkflowFiles(join(configDir, 'packs'));
  const refs = new Set<string>(actionRefs);
  const texts = await Promise.all(files.map((f) => readFile(f.file, 'utf8')));
  texts.forEach((text, i) => refs.add(/^ref:\s*([a-z0-9_.]+)/m.exec(text)?.[1] ?? files[i]!.dialect.ref!));
  files.forEach(({ file, dialect }, i) => {
    const yaml = texts[i]!;
    const r = validateWorkflow(yaml, { isKnownAction: (ref) => refs.has(ref), dialect, ...(limits ? { limits } : {}) });
    for (const d of r.diagnostics) report(formatDiagnostic(relative(process.cwd(), file), d));
    if (r.workflow) out.push({ file, yaml, workflow: r.workflow, dialect });
  });
  return out;
}

/**
 * Every pack's workflow files: `workflows/*.yaml` (a file without a ref of its own is
 * `<pack>.<file stem>`), and the graphs Attune workflow actions name, with the action's metadata.
 */
async function packWorkflowFiles(packsDir: string): Promise<{ file: string; dialect: DialectOptions }[]> {
  const files: { file: string; dialect: DialectOptions }[] = [];
  for (const pack of (await readdir(packsDir).catch(() => [] as string[])).sort()) {
    const wrapped = new Set<string>();
    for (const actionFile of await yamlFiles(join(packsDir, pack, 'actions'))) {
      const w = workflowActionOf(await readFile(actionFile, 'utf8'));
      if (!w) continue;
      const file = join(packsDir, pack, 'actions', w.file);
      wrapped.add(file);
      files.push({ file, dialect: { ref: w.ref ?? `${pack}.${stemOf(actionFile)}`, meta: w.meta } });
    }
    const dir = join(packsDir, pack, 'workflows');
    for (const f of (await readdir(dir).catch(() => [] as string[])).sort())
      if (/\.ya?ml$/.test(f) && !wrapped.has(join(dir, f))) files.push({ file: join(dir, f), dialect: { ref: `${pack}.${stemOf(f)}` } });
  }
  return files;
}

/** `deploy.workflow.yaml` → deploy (Attune names graph files that way), `release.yaml` → release. */
const stemOf = (file: string) =>
  basename(file)
    .replace(/\.ya?ml$/, '')
    .replace(/\.workflow$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_');
