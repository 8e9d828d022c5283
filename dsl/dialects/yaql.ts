// The YAQL that Orquesta and StackStorm workflows write, translated into Closeloop's template
// language (Jinja style) so one evaluator runs both. Written by hand: the subset is small and every
// construct outside it must be refused with its position, which no YAQL library for Node offers.

export class YaqlError extends Error {
  override readonly name = 'YaqlError';
  constructor(
    message: string,
    /** Offset in the expression. */
    readonly pos: number,
  ) {
    super(message);
  }
}

type Tok = { k: 'num' | 'str' | 'id' | 'var' | 'op'; v: string; pos: number };

const OPS = ['=>', '!=', '<=', '>=', '==', '=', '<', '>', '+', '-', '*', '/', '(', ')', '[', ']', '{', '}', ',', '.', ':', '%'];

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!;
      out.push({ k: 'num', v: m[0], pos: start });
      i += m[0].length;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        text += src[j];
        j++;
      }
      if (j >= src.length) throw new YaqlError('unterminated string', start);
      out.push({ k: 'str', v: text, pos: start });
      i = j + 1;
    } else if (c === '$') {
      const m = /^\$[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      out.push({ k: 'var', v: m ? m[0].slice(1) : '', pos: start });
      i += m ? m[0].length : 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ k: 'id', v: m[0], pos: start });
      i += m[0].length;
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (!op) throw new YaqlError(`unexpected character '${c}'`, start);
      out.push({ k: 'op', v: op, pos: start });
      i += op.length;
    }
  }
  return out;
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const BINARY: Record<string, string> = { '=': '==', '==': '==', '!=': '!=', '<': '<', '>': '>', '<=': '<=', '>=': '>=', in: 'in' };
/** Functions whose single argument names a context key, written bare in YAQL: `ctx(members)`. */
const NAMING = new Set(['ctx', 'task_status', 'item']);
/** YAQL functions (or methods) that are a Closeloop filter of their first argument. */
const AS_FILTER: Record<string, string> = {
  len: 'length',
  count: 'length',
  str: 'string',
  int: 'int',
  float: 'float',
  bool: 'bool',
  toUpper: 'upper',
  toLower: 'lower',
  trim: 'trim',
  keys: 'keys',
  values: 'values',
  distinct: 'unique',
  sum: 'sum',
  min: 'min',
  max: 'max',
  first: 'first',
  last: 'last',
};
/** Orquesta and StackStorm functions that exist as they are. */
const PASS = new Set(['ctx', 'result', 'succeeded', 'failed', 'completed', 'task_status', 'json', 'zip', 'random']);

class Translator {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly end: number,
  ) {}

  private peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }
  private isOp(v: string, o = 0) {
    const t = this.peek(o);
    return t?.k === 'op' && t.v === v;
  }
  private isWord(v: string) {
    const t = this.peek();
    return t?.k === 'id' && t.v === v;
  }
  private expect(v: string): void {
    if (!this.isOp(v)) throw new YaqlError(`expected '${v}'`, this.peek()?.pos ?? this.end);
    this.i++;
  }

  /** The whole expression; a top-level comma list (`a, b`) is a list. */
  top(): string {
    const items = [this.or()];
    while (this.isOp(',')) {
      this.i++;
      items.push(this.or());
    }
    if (this.peek()) throw new YaqlError(`unexpected '${this.peek()!.v}'`, this.peek()!.pos);
    return items.length > 1 ? `[${items.join(', ')}]` : items[0]!;
  }

  or(): string {
    let left = this.and();
    while (this.isWord('or')) {
      this.i++;
      left = `(${left} or ${this.and()})`;
    }
    return left;
  }
  and(): string {
    let left = this.not();
    while (this.isWord('and')) {
      this.i++;
      left = `(${left} and ${this.not()})`;
    }
    return left;
  }
  not(): string {
    if (this.isWord('not')) return (this.i++, `(not ${this.not()})`);
    return this.compare();
  }
  compare(): string {
    let left = this.additive();
    for (;;) {
      const t = this.peek();
      const op = t && ((t.k === 'op' && BINARY[t.v] && t.v !== 'in') || (t.k === 'id' && t.v === 'in')) ? BINARY[t.v] : undefined;
      if (!op) return left;
      this.i++;
      left = `(${left} ${op} ${this.additive()})`;
    }
  }
  additive(): string {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.peek()!.v;
      this.i++;
      left = `(${left} ${op} ${this.multiplicative()})`;
    }
    return left;
  }
  multiplicative(): string {
    let left = this.unary();
    for (;;) {
      const op = this.isOp('*') || this.isOp('/') ? this.peek()!.v : this.isWord('mod') ? '%' : undefined;
      if (!op) return left;
      this.i++;
      left = `(${left} ${op} ${this.unary()})`;
    }
  }
  unary(): string {
    if (this.isOp('-')) return (this.i++, `(-${this.unary()})`);
    return this.postfix(this.primary());
  }

  postfix(base: string): string {
    let out = base;
    for (;;) {
      if (this.isOp('[')) {
        this.i++;
        const index = this.or();
        this.expect(']');
        out = `${out}[${index}]`;
      } else if (this.isOp('.') && this.peek(1)?.k === 'id') {
        const name = this.peek(1)!;
        this.i += 2;
        if (!this.isOp('(')) {
          out = `${out}.${name.v}`;
          continue;
        }
        // a method: `$.list.len()` is len($.list)
        const args = this.args(name.v);
        out = this.call(name.v, [out, ...args.positional], args.named, name.pos);
      } else return out;
    }
  }

  primary(): string {
    const t = this.peek();
    if (!t) throw new YaqlError('expression ends too early', this.end);
    this.i++;
    if (t.k === 'num') return t.v;
    if (t.k === 'str') return quote(t.v);
    if (t.k === 'var') {
      if (t.v) throw new YaqlError(`YAQL variable '$${t.v}' is not supported: use ctx().${t.v} for a workflow variable`, t.pos);
      return 'ctx()'; // `$` is the workflow context: `$.x` reads ctx().x
    }
    if (t.k === 'op' && t.v === '(') {
      const inner = this.or();
      this.expect(')');
      return `(${inner})`;
    }
    if (t.k === 'op' && t.v === '[') {
      const items: string[] = [];
      while (!this.isOp(']')) {
        items.push(this.or());
        if (!this.isOp(']')) this.expect(',');
      }
      this.i++;
      return `[${items.join(', ')}]`;
    }
    if (t.k === 'id') {
      if (t.v === 'true' || t.v === 'false' || t.v === 'null') return t.v;
      if (this.isOp('(')) {
        const args = this.args(t.v);
        return this.call(t.v, args.positional, args.named, t.pos);
      }
      return quote(t.v); // YAQL reads a bare name as text: list(a, b) is ['a', 'b']
    }
    throw new YaqlError(`unexpected '${t.v}'`, t.pos);
  }

  /** `(a, b, key => v)`; a bare name as the argument of ctx(), item() or task_status() is that name. */
  private args(fn: string): { positional: string[]; named: Record<string, string> } {
    this.expect('(');
    const positional: string[] = [];
    const named: Record<string, string> = {};
    while (!this.isOp(')')) {
      const t = this.peek();
      if (t?.k === 'id' && this.isOp('=>', 1)) {
        this.i += 2;
        named[t.v] = this.or();
      } else if (t?.k === 'id' && NAMING.has(fn) && (this.isOp(')', 1) || this.isOp(',', 1))) {
        this.i++;
        positional.push(quote(t.v));
      } else positional.push(this.or());
      if (!this.isOp(')')) this.expect(',');
    }
    this.i++;
    return { positional, named };
  }

  private call(fn: string, args: string[], named: Record<string, string>, pos: number): string {
    const unquote = (s: string | undefined) => (s && /^'[A-Za-z_][A-Za-z0-9_]*'$/.test(s) ? s.slice(1, -1) : undefined);
    if (fn === 'item') {
      // left as item('name'): the caller knows whether the name is a zip position (orquesta-expr.ts)
      if (!args.length) return 'item()';
      if (!unquote(args[0])) throw new YaqlError('item() takes the name of an item variable', pos);
      return `item(${args[0]})`;
    }
    if (fn === 'st2kv') {
      if (!args[0]) throw new YaqlError("st2kv() needs the key: st2kv('name')", pos);
      return named.decrypt === 'true' ? `kv.get_secret(${args[0]})` : `kv.get(${args[0]})`;
    }
    if (AS_FILTER[fn]) {
      if (args.length !== 1) throw new YaqlError(`${fn}() takes one value here`, pos);
      return `(${args[0]} | ${AS_FILTER[fn]})`;
    }
    if (fn === 'list') return `[${args.join(', ')}]`;
    if (fn === 'dict')
      return `{${Object.entries(named)
        .map(([k, v]) => `${quote(k)}: ${v}`)
        .join(', ')}}`;
    if (fn === 'concat') return `(${args.join(' ~ ')})`;
    if (fn === 'join' && args.length === 2) return `(${args[0]} | join(${args[1]}))`;
    if (PASS.has(fn)) return `${fn}(${args.join(', ')})`;
    throw new YaqlError(`YAQL function '${fn}' is not supported (docs/migrating.md lists the supported ones)`, pos);
  }
}

/** The Closeloop expression for a YAQL expression (the text between `<%` and `%>`). */
export function yaqlToJinja(src: string): string {
  const toks = lex(src);
  if (!toks.length) throw new YaqlError('empty expression', 0);
  return new Translator(toks, src.length).top();
}
