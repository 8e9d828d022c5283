import type { CompiledWorkflow } from './types.js';
import { isBuiltin } from './builtins.js';

/** Action refs of a workflow that are not built-ins (candidates for nested runs). */
export function actionRefs(wf: CompiledWorkflow): string[] {
  return [...new Set(Object.values(wf.tasks).flatMap((t) => (t.action && !isBuiltin(t.action) ? [t.action] : [])))];
}

export class NestingError extends Error {
  override readonly name = 'NestingError';
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
      if (path.length > root.limits.max_depth) throw new NestingError(`nested workflows deeper than limits.max_depth (${root.limits.max_depth}): ${[...path, ref].join(' -> ')}`);
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
