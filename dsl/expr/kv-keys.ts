import type { Node } from './ast.js';
import { parseTemplate } from './template.js';

function walk(node: Node, out: Set<string>): void {
  switch (node.t) {
    case 'call':
      if (
        node.fn.t === 'attr' &&
        node.fn.name === 'get' &&
        node.fn.obj.t === 'name' &&
        node.fn.obj.name === 'kv' &&
        node.args[0]?.t === 'lit' &&
        typeof node.args[0].v === 'string'
      )
        out.add(node.args[0].v);
      walk(node.fn, out);
      node.args.forEach((a) => walk(a, out));
      node.kwargs.forEach(([, v]) => walk(v, out));
      return;
    case 'list':
      return node.items.forEach((x) => walk(x, out));
    case 'map':
      return node.entries.forEach(([k, v]) => (walk(k, out), walk(v, out)));
    case 'attr':
      return walk(node.obj, out);
    case 'index':
      return (walk(node.obj, out), walk(node.index, out));
    case 'filter':
      walk(node.value, out);
      node.args.forEach((a) => walk(a, out));
      return node.kwargs.forEach(([, v]) => walk(v, out));
    case 'unary':
      return walk(node.arg, out);
    case 'binary':
      return (walk(node.left, out), walk(node.right, out));
    case 'cond':
      walk(node.test, out);
      walk(node.then, out);
      if (node.else) walk(node.else, out);
      return;
    case 'test':
      return walk(node.value, out);
    default:
      return;
  }
}

/** The literal keys of every `kv.get('key')` in the templates inside a value (read before a task runs). */
export function kvGetKeys(value: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 100) return out;
  if (typeof value === 'string') {
    if (value.includes('kv.get')) {
      try {
        for (const p of parseTemplate(value).parts) if ('node' in p) walk(p.node, out);
      } catch {
        // a broken template reports itself when rendered
      }
    }
  } else if (Array.isArray(value)) value.forEach((v) => kvGetKeys(v, out, depth + 1));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => kvGetKeys(v, out, depth + 1));
  return out;
}
