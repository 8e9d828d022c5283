// Orquesta's expressions in a string value: each `<% yaql %>` and each `{{ jinja }}` becomes a
// Closeloop template with the same meaning (Orquesta's functions: ctx(), item(), st2kv(), ...).
import { YaqlError, yaqlToJinja } from './yaql.js';

/** An expression Closeloop cannot take, with its offset in the string value. */
export class DialectExpressionError extends Error {
  override readonly name = 'DialectExpressionError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface ExprContext {
  /** `with: a, b in <% zip(...) %>`: item(a) is item[0], item(b) is item[1]. */
  itemNames?: string[];
}

/** Orquesta's Jinja functions, rewritten outside string literals. */
function rewriteJinja(expr: string, ctx: ExprContext): string {
  let out = '';
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === "'" || c === '"') {
      const end = expr.indexOf(c, i + 1);
      const stop = end < 0 ? expr.length : end + 1;
      out += expr.slice(i, stop);
      i = stop;
      continue;
    }
    const rest = expr.slice(i);
    const prev = i > 0 ? expr[i - 1]! : ' ';
    const m = /[A-Za-z0-9_.]/.test(prev)
      ? null
      : /^(item|ctx|task_status|st2kv)\(\s*(?:(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2)?\s*(,\s*decrypt\s*=\s*(?:true|True)\s*)?\)/.exec(rest);
    if (m) {
      out += named(m[1]!, m[3], !!m[4], ctx);
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function named(fn: string, arg: string | undefined, decrypt: boolean, ctx: ExprContext): string {
  if (fn === 'item') {
    if (!arg) return 'item';
    const names = ctx.itemNames ?? [];
    // one name (`x in <% xs %>`) is the item itself; several (`a, b in <% zip(...) %>`) are its positions
    if (names.length === 1 && names[0] === arg) return 'item';
    const at = names.indexOf(arg);
    return at >= 0 ? `item[${at}]` : `item.${arg}`;
  }
  if (fn === 'st2kv') return `kv.${decrypt ? 'get_secret' : 'get'}('${arg ?? ''}')`;
  return arg ? `${fn}('${arg}')` : `${fn}()`;
}

/** The template for one string value; throws DialectExpressionError at the offending expression. */
export function convertText(text: string, ctx: ExprContext = {}): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const yaql = text.indexOf('<%', i);
    const jinja = text.indexOf('{{', i);
    const next = [yaql, jinja].filter((x) => x >= 0).sort((a, b) => a - b)[0];
    if (next === undefined) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, next);
    const isYaql = next === yaql;
    const close = text.indexOf(isYaql ? '%>' : '}}', next + 2);
    if (close < 0) throw new DialectExpressionError(`'${isYaql ? '<%' : '{{'}' without its closing '${isYaql ? '%>' : '}}'}'`, next);
    const body = text.slice(next + 2, close);
    if (isYaql) {
      try {
        out += `{{ ${rewriteJinja(yaqlToJinja(body), ctx)} }}`;
      } catch (err) {
        if (err instanceof YaqlError) throw new DialectExpressionError(`YAQL <%${body}%>: ${err.message}`, next + 2 + err.pos);
        throw err;
      }
    } else out += `{{ ${rewriteJinja(body.trim(), ctx)} }}`;
    i = close + 2;
  }
  return out;
}

/** convertText over every string in a value (maps and lists walked), reporting the path of a failure. */
export function convertValue(
  v: unknown,
  ctx: ExprContext,
  at: (path: (string | number)[], err: DialectExpressionError) => void,
  path: (string | number)[] = [],
): unknown {
  if (typeof v === 'string') {
    try {
      return convertText(v, ctx);
    } catch (err) {
      if (!(err instanceof DialectExpressionError)) throw err;
      at(path, err);
      return v;
    }
  }
  if (Array.isArray(v)) return v.map((x, i) => convertValue(x, ctx, at, [...path, i]));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convertValue(x, ctx, at, [...path, k])]));
  return v;
}
