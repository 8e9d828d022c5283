// The names a template uses at its root (scopes like `vars`, functions like `succeeded()`), so
// validation can refuse what would only fail at run time.
import type { Node } from './ast.js';

export interface NameUse {
  kind: 'scope' | 'function';
  name: string;
  /** Offset in the template. */
  pos: number;
}

export function namesUsed(node: Node, out: NameUse[] = []): NameUse[] {
  switch (node.t) {
    case 'name':
      out.push({ kind: 'scope', name: node.name, pos: node.pos });
      break;
    case 'call':
      if (node.fn.t === 'name') out.push({ kind: 'function', name: node.fn.name, pos: node.fn.pos });
      else namesUsed(node.fn, out);
      node.args.forEach((a) => namesUsed(a, out));
      node.kwargs.forEach(([, v]) => namesUsed(v, out));
      break;
    case 'attr':
      namesUsed(node.obj, out);
      break;
    case 'index':
      namesUsed(node.obj, out);
      namesUsed(node.index, out);
      break;
    case 'list':
      node.items.forEach((i) => namesUsed(i, out));
      break;
    case 'map':
      node.entries.forEach(([k, v]) => (namesUsed(k, out), namesUsed(v, out)));
      break;
    case 'filter':
      namesUsed(node.value, out);
      node.args.forEach((a) => namesUsed(a, out));
      node.kwargs.forEach(([, v]) => namesUsed(v, out));
      break;
    case 'unary':
      namesUsed(node.arg, out);
      break;
    case 'binary':
      namesUsed(node.left, out);
      namesUsed(node.right, out);
      break;
    case 'cond':
      namesUsed(node.test, out);
      namesUsed(node.then, out);
      if (node.else) namesUsed(node.else, out);
      break;
    case 'test':
      namesUsed(node.value, out);
      break;
    case 'lit':
      break;
  }
  return out;
}

/** What a workflow's templates may name at their root (dsl.md "Templates"; conductor/scope.ts builds them). */
// `workflow`: Attune's name for the run's variables, the same object as `vars` (dsl.md "Other dialects")
export const WORKFLOW_SCOPES = ['parameters', 'vars', 'workflow', 'task', 'system', 'event', 'pack', 'kv', 'item', 'index', 'error'] as const;
export const WORKFLOW_FUNCTIONS = [
  'succeeded',
  'failed',
  'completed',
  'timed_out',
  'skipped',
  'result',
  'ctx',
  'task_status',
  'json',
  'zip',
  'random',
  'now',
  'uuid',
] as const;
