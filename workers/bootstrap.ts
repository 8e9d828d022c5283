import { Connection, Client, type WorkflowClientInterceptor } from '@temporalio/client';
import { join } from 'node:path';
import { migrate, openStore, type Store } from '../store/db.js';
import { SHARED_TENANT, WorkflowRepo } from '../store/workflows-repo.js';
import { ALL_SEARCH_ATTRIBUTES } from '../contracts/definitions.js';
import { loadPackContents, loadPackWorkflows, loadPlugins, loadTenants, type PackContents, type PluginDef, type TenantConfig } from './config.js';
import type { Settings } from './settings.js';
import { loadClosureRules, loadEndpoints, loadEscalation, loadLimits, loadStrategyFiles } from './agent-config.js';
import type { Limits } from '../dsl/types.js';
import type { ClosureRule } from '../dsl/closure-rules.js';
import type { EscalationConfig } from '../dsl/escalation.js';
import { StrategyRepo } from '../store/strategies-repo.js';
import type { Endpoints } from '../activities/reviews.js';

/** PostgreSQL when DATABASE_URL is set, otherwise embedded PGlite under .data/; migrations applied. */
export async function openDatabase(settings: Settings): Promise<Store> {
  const store = await openStore(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : { pgliteDir: join(settings.dataDir, 'pglite') });
  await migrate(store);
  return store;
}

/** Registers Closeloop's search attributes on a server that lacks them (an external TEMPORAL_ADDRESS). */
export async function ensureSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !(k.name in (existing.customAttributes ?? {})));
  if (!missing.length) return;
  // 2 = INDEXED_VALUE_TYPE_KEYWORD
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((k) => [k.name, 2])) });
}

export interface LoadedConfig {
  tenants: TenantConfig;
  packWorkflows: number;
  packs: PackContents;
  plugins: Map<string, PluginDef>;
  endpoints: Endpoints;
  strategies: number;
  closureRules: ReadonlyMap<string, ClosureRule>;
  escalation: EscalationConfig;
  /** config/limits.yaml: what a workflow file may ask for. */
  limits: Limits;
}

/** Loads tenants and registers pack workflows for every tenant (idempotent across restarts). */
export async function loadConfig(settings: Settings, store: Store, log: (s: string) => void = console.log, previous?: LoadedConfig): Promise<LoadedConfig> {
  const tenants = await loadTenants(settings.configDir);
  const packContents = await loadPackContents(settings.configDir, (line) => log(`config: ${line}`));
  const plugins = await loadPlugins(settings.configDir);
  const limits = await loadLimits(settings.configDir, (line) => log(`config: ${line}`), previous?.limits);
  const packs = await loadPackWorkflows(settings.configDir, new Set(packContents.actions.keys()), (line) => log(`config: ${line}`), limits);
  const repo = new WorkflowRepo(store.db);
  for (const p of packs) {
    const outcome = await repo.register(SHARED_TENANT, p.workflow, p.yaml, 'config');
    if (outcome === 'conflict')
      log(
        `config: ${p.workflow.ref}@${p.workflow.version} changed on disk but that version is already registered: bump its version (the registered one stays in force)`,
      );
  }
  const strategies = await loadStrategyFiles(settings.configDir, (line) => log(`config: ${line}`));
  const synced = await new StrategyRepo(store.db).syncFromConfig(strategies);
  for (const key of synced.changed)
    log(`config: strategy ${key} changed on disk but that version is already stored: bump its version (the stored one stays in force)`);
  const endpoints = await loadEndpoints(settings.configDir);
  const closureRules = await loadClosureRules(settings.configDir, (line) => log(`config: ${line}`), previous?.closureRules);
  const escalation = await loadEscalation(settings.configDir, (line) => log(`config: ${line}`), previous?.escalation);
  return { tenants, packWorkflows: packs.length, packs: packContents, plugins, endpoints, strategies: strategies.length, closureRules, escalation, limits };
}

export async function connectClient(address: string, namespace: string, interceptors: WorkflowClientInterceptor[] = []): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace, interceptors: { workflow: interceptors } });
}
