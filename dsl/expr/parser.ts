import type { Node } from './ast.js';
import { ExpressionError } from './errors.js';
import { FILTERS } from './filters.js';
import { tokenize, type Token } from './lexer.js';

const MAX_DEPTH = 64;
const MAX_EXPRESSION_LENGTH = 16_384;
const COMPARISONS = new Set(['==', '!=', '<', '>', '<=', '>=']);
const LITERALS: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, {
  true: true,
  false: false,
  True: true,
  False: false,
  none: null,
  null: null,
  None: null,
});

/** Parses one expression (the text between `{{` and `}}`); `base` is its offset in the template. */
export function parseExpression(src: string, base = 0): Node {
  if (src.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`, base);
  return new Parser(tokenize(src, base)).parseAll();
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): Node {
    const node = this.expr();
    const tok = this.peek();
    if (tok.kind !== 'eof') throw new ExpressionError(`unexpected '${tok.value}'`, tok.pos);
    return node;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    return this.tokens[this.i++] ?? this.tokens[this.tokens.length - 1]!;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.value === v;
  }
  private isWord(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'ident' && t.value === v;
  }
  private expect(v: string): Token {
    const t = this.next();
    if (t.kind !== 'op' || t.value !== v)
      throw new ExpressionError(`expected '${v}' but found ${t.kind === 'eof' ? 'end of expression' : `'${t.value}'`}`, t.pos);
    return t;
  }

  private nested<T>(pos: number, fn: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new ExpressionError(`expression nested deeper than ${MAX_DEPTH} levels`, pos);
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  expr(): Node {
    return this.nested(this.peek().pos, () => this.conditional());
  }

  // `a if c else b` (Jinja) and `c ? a : b`
  private conditional(): Node {
    const first = this.or();
    if (this.isWord('if')) {
      const pos = this.next().pos;
      const test = this.or();
      let otherwise: Node | null = null;
      if (this.isWord('else')) {
        this.next();
        otherwise = this.expr();
      }
      return { t: 'cond', test, then: first, else: otherwise, pos };
    }
    if (this.isOp('?')) {
      const pos = this.next().pos;
      const then = this.expr();
      this.expect(':');
      return { t: 'cond', test: first, then, else: this.expr(), pos };
    }
    return first;
  }

  private or(): Node {
    let left = this.and();
    while (this.isWord('or')) {
      const pos = this.next().pos;
      left = { t: 'binary', op: 'or', left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.isWord('and')) {
      const pos = this.next().pos;
      left = { t: 'binary', op: 'and', left, right: this.not(), pos };
    }
    return left;
  }

  private not(): Node {
    if (this.isWord('not')) {
      const pos = this.next().pos;
      return this.nested(pos, () => ({ t: 'unary', op: 'not', arg: this.not(), pos }));
    }
    return this.comparison();
  }

  private comparison(): Node {
    let left = this.concat();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && COMPARISONS.has(t.value)) {
        this.next();
        const right = this.concat();
        // chained comparisons read like Python/Jinja: a < b <= c means a < b and b <= c
        const prev = left.t === 'binary' && COMPARISONS.has(left.op) ? left.right : null;
        const cmp: Node = { t: 'binary', op: t.value, left: prev ?? left, right, pos: t.pos };
        left = prev ? { t: 'binary', op: 'and', left, right: cmp, pos: t.pos } : cmp;
      } else if (this.isWord('in')) {
        this.next();
        left = { t: 'binary', op: 'in', left, right: this.concat(), pos: t.pos };
      } else if (this.isWord('not') && this.isWord('in', 1)) {
        this.next();
        this.next();
        left = { t: 'unary', op: 'not', arg: { t: 'binary', op: 'in', left, right: this.concat(), pos: t.pos }, pos: t.pos };
      } else if (this.isWord('is')) {
        this.next();
        const negate = this.isWord('not');
        if (negate) this.next();
        const name = this.next();
        if (name.kind !== 'ident') throw new ExpressionError(`expected a test name after 'is'`, name.pos);
        left = { t: 'test', value: left, name: name.value, negate, pos: t.pos };
      } else return left;
    }
  }

  private concat(): Node {
    let left = this.additive();
    while (this.isOp('~')) {
      const pos = this.next().pos;
      left = { t: 'binary', op: '~', left, right: this.additive(), pos };
    }
    return left;
  }

  private additive(): Node {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { t: 'binary', op: t.value, left, right: this.multiplicative(), pos: t.pos };
    }
    return left;
  }

  private multiplicative(): Node {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const t = this.next();
      left = { t: 'binary', op: t.value, left, right: this.unary(), pos: t.pos };
    }
    return left;
  }

  private unary(): Node {
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.next();
      return this.nested(t.pos, () => ({ t: 'unary', op: t.value, arg: this.unary(), pos: t.pos }));
    }
    const base = this.postfix();
    if (this.isOp('**')) {
      const pos = this.next().pos;
      return { t: 'binary', op: '**', left: base, right: this.nested(pos, () => this.unary()), pos };
    }
    return base;
  }

  private postfix(): Node {
    let node = this.primary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op') return node;
      if (t.value === '.') {
        this.next();
        const name = this.next();
        if (name.kind !== 'ident' && name.kind !== 'num') throw new ExpressionError(`expected a name after '.'`, name.pos);
        node =
          name.kind === 'num'
            ? { t: 'index', obj: node, index: { t: 'lit', v: name.num, pos: name.pos }, pos: name.pos }
            : { t: 'attr', obj: node, name: name.value, pos: name.pos };
      } else if (t.value === '[') {
        this.next();
        const index = this.expr();
        this.expect(']');
        node = { t: 'index', obj: node, index, pos: t.pos };
      } else if (t.value === '(') {
        this.next();
        const { args, kwargs } = this.args();
        node = { t: 'call', fn: node, args, kwargs, pos: t.pos };
      } else if (t.value === '|') {
        this.next();
        const name = this.next();
        if (name.kind !== 'ident') throw new ExpressionError(`expected a filter name after '|'`, name.pos);
        if (!Object.prototype.hasOwnProperty.call(FILTERS, name.value)) throw new ExpressionError(`unknown filter '${name.value}'`, name.pos);
        let args: Node[] = [];
        let kwargs: [string, Node][] = [];
        if (this.isOp('(')) {
          this.next();
          ({ args, kwargs } = this.args());
        }
        node = { t: 'filter', value: node, name: name.value, args, kwargs, pos: name.pos };
      } else return node;
    }
  }

  // after '(' up to and including ')'
  private args(): { args: Node[]; kwargs: [string, Node][] } {
    const args: Node[] = [];
    const kwargs: [string, Node][] = [];
    while (!this.isOp(')')) {
      const t = this.peek();
      if (t.kind === 'ident' && this.peek(1).kind === 'op' && this.peek(1).value === '=') {
        this.next();
        this.next();
        kwargs.push([t.value, this.expr()]);
      } else {
        if (kwargs.length) throw new ExpressionError('positional argument after keyword argument', t.pos);
        args.push(this.expr());
      }
      if (!this.isOp(')')) this.expect(',');
    }
    this.expect(')');
    return { args, kwargs };
  }

  private primary(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'num':
        return { t: 'lit', v: t.num, pos: t.pos };
      case 'str':
        return { t: 'lit', v: t.value, pos: t.pos };
      case 'ident':
        if (Object.prototype.hasOwnProperty.call(LITERALS, t.value)) return { t: 'lit', v: LITERALS[t.value], pos: t.pos };
        return { t: 'name', name: t.value, pos: t.pos };
      case 'eof':
        throw new ExpressionError('unexpected end of expression', t.pos);
      default:
        break;
    }
    if (t.value === '(') {
      const inner = this.expr();
      this.expect(')');
      return inner;
    }
    if (t.value === '[') {
      return this.nested(t.pos, () => {
        const items: Node[] = [];
        while (!this.isOp(']')) {
          items.push(this.expr());
          if (!this.isOp(']')) this.expect(',');
        }
        this.expect(']');
        return { t: 'list', items, pos: t.pos };
      });
    }
    if (t.value === '{') {
      return this.nested(t.pos, () => {
        const entries: [Node, Node][] = [];
        while (!this.isOp('}')) {
          const keyTok = this.peek();
          const key: Node = keyTok.kind === 'ident' && this.peek(1).value === ':' ? (this.next(), { t: 'lit', v: keyTok.value, pos: keyTok.pos }) : this.expr();
          this.expect(':');
          entries.push([key, this.expr()]);
          if (!this.isOp('}')) this.expect(',');
        }
        this.expect('}');
        return { t: 'map', entries, pos: t.pos };
      });
    }
    throw new ExpressionError(`unexpected '${t.value}'`, t.pos);
  }
}
