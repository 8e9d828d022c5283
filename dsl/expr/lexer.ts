import { ExpressionError } from './errors.js';

export type TokenKind = 'num' | 'str' | 'ident' | 'op' | 'eof';
export interface Token {
  kind: TokenKind;
  value: string;
  num?: number;
  pos: number;
}

const OPERATORS = ['**', '//', '==', '!=', '<=', '>=', '+', '-', '*', '/', '%', '<', '>', '(', ')', '[', ']', '{', '}', ',', '.', ':', '|', '?', '~', '='];
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };

/** Splits an expression into tokens; `base` is the expression's offset in its template. */
export function tokenize(src: string, base: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const pos = base + i;
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      tokens.push({ kind: 'num', value: m[0], num: Number(m[0]), pos });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      tokens.push({ kind: 'ident', value: m[0], pos });
      i += m[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let out = '';
      let j = i + 1;
      for (; j < src.length && src[j] !== c; j++) {
        if (src[j] === '\\' && j + 1 < src.length) {
          j++;
          out += Object.prototype.hasOwnProperty.call(ESCAPES, src[j]!) ? ESCAPES[src[j]!] : src[j];
        } else out += src[j];
      }
      if (j >= src.length) throw new ExpressionError('unterminated string', pos);
      tokens.push({ kind: 'str', value: out, pos });
      i = j + 1;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected character '${c}'`, pos);
    tokens.push({ kind: 'op', value: op, pos });
    i += op.length;
  }
  tokens.push({ kind: 'eof', value: '', pos: base + src.length });
  return tokens;
}
