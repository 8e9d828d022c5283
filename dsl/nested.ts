import type { CompiledWorkflow } from './types.js';
import { isBuiltin } from './builtins.js';
import type { ActionDef } from './actions.js';

/** Action refs of a workflow that are not built-ins (candidates for nested runs). */
export function actionRefs(wf: CompiledWorkflow): string[] {
  return [...new Set(Object.values(wf.tasks).flatMap((t) => (t.action && !isBuiltin(t.action) ? [t.action] : [])))];
}

export class NestingError extends Error {
  override readonly name = 'NestingError';
}

/** Pins the pack actions and pack configuration a run needs (mocked refs are left to the worker's mocks). */
export function pinActions(
  wf: CompiledWorkflow,
  actions: ReadonlyMap<string, ActionDef>,
  packConfig: ReadonlyMap<string, Record<string, unknown>>,
  mocked: ReadonlySet<string> = new Set(),
): CompiledWorkflow {
  const all = [wf, ...Object.values(wf.children ?? {})];
  const used = new Set(all.flatMap(actionRefs).filter((r) => actions.has(r) && !mocked.has(r)));
  const packs = new Set([...all.map((w) => w.ref.split('.')[0]!), ...[...used].map((r) => r.split('.')[0]!)]);
  const pinnedActions = Object.fromEntries([...used].map((r) => [r, actions.get(r)!]));
  const config = Object.fromEntries([...packs].filter((p) => packConfig.has(p)).map((p) => [p, packConfig.get(p)!]));
  return { ...wf, ...(used.size ? { actions: pinnedActions } : {}), ...(Object.keys(config).length ? { pack_config: config } : {}) };
}

/**
 * Pins every workflow reachable through nested-run tasks into `children` (one flat map by ref), so the
 * run carries the exact versions current at its start. `lookup` returns a registered workflow or null
 * (a null ref is a plain action). Cycles are refused; depth is checked against the root's max_depth.
 */
export async function pinNested(root: CompiledWorkflow, lookup: (ref: string) => Promise<CompiledWorkflow | null>): Promise<CompiledWorkflow> {
  const children: Record<string, CompiledWorkflow> = {};
  const visit = async (wf: CompiledWorkflow, path: string[]): Promise<void> => {
    for (const ref of actionRefs(wf)) {
      if (path.includes(ref)) throw new NestingError(`nested workflows form a cycle: ${[...path, ref].join(' -> ')}`);
      if (path.length > root.limits.max_depth)
        throw new NestingError(`nested workflows deeper than limits.max_depth (${root.limits.max_depth}): ${[...path, ref].join(' -> ')}`);
      const child = children[ref] ?? (await lookup(ref));
      if (!child) continue;
      const { children: _nested, ...flat } = child;
      children[ref] = flat;
      await visit(child, [...path, ref]);
    }
  };
  await visit(root, [root.ref]);
  return Object.keys(children).length ? { ...root, children } : root;
}
