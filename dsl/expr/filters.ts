import { ExpressionError } from './errors.js';
import {
  FORBIDDEN_KEYS,
  UNDEFINED,
  compare,
  deepEqual,
  equalityKey,
  getKey,
  isPlainObject,
  toPlain,
  toText,
  truthy,
  typeName,
  type Meter,
  type Value,
} from './values.js';

/**
 * A filter call. The evaluator charges every filter for the size of its input and output; a filter
 * whose work grows faster than that (sorting, comparing nested values) charges the rest itself.
 */
export interface FilterCall {
  args: Value[];
  kwargs: Record<string, Value>;
  pos: number;
  charge: Meter;
}
type Filter = (v: Value, call: FilterCall) => Value;

function list(v: Value, name: string, pos: number): Value[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isPlainObject(v)) return Object.keys(v);
  throw new ExpressionError(`filter '${name}' needs a list, got ${typeName(v)}`, pos);
}
function str(v: Value, name: string, pos: number): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new ExpressionError(`filter '${name}' needs a string, got ${typeName(v)}`, pos);
}
function map(v: Value, name: string, pos: number): Record<string, Value> {
  if (isPlainObject(v)) return v;
  throw new ExpressionError(`filter '${name}' needs a map, got ${typeName(v)}`, pos);
}
function arg(c: FilterCall, i: number, key: string, fallback?: Value): Value {
  if (key in c.kwargs) return c.kwargs[key];
  return i < c.args.length ? c.args[i] : fallback;
}
function int(v: Value, name: string, pos: number): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new ExpressionError(`filter '${name}' needs an integer argument, got ${typeName(v)}`, pos);
}
function attrOf(item: Value, attr: Value, pos: number): Value {
  let cur = item;
  for (const part of String(attr).split('.')) cur = getKey(cur, /^-?\d+$/.test(part) ? Number(part) : part, pos, `in '${String(attr)}'`);
  return cur;
}
/** Items where item[key] == value for each keyword argument, or truthy items when none is given. */
function matcher(c: FilterCall): (item: Value) => boolean {
  const entries = Object.entries(c.kwargs);
  if (entries.length === 0 && c.args.length === 0) return truthy;
  if (entries.length === 0) {
    const [attr, expected] = c.args;
    return (item) => (c.args.length > 1 ? deepEqual(attrOf(item, attr, c.pos), expected, c.charge) : truthy(attrOf(item, attr, c.pos)));
  }
  return (item) => entries.every(([k, expected]) => isPlainObject(item) && deepEqual(getKey(item, k, c.pos, ''), expected, c.charge));
}
function toNumber(v: Value, name: string, pos: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  throw new ExpressionError(`filter '${name}' cannot convert ${typeName(v)} ${JSON.stringify(toPlain(v))} to a number`, pos);
}

export const FILTERS: Record<string, Filter> = {
  upper: (v, c) => str(v, 'upper', c.pos).toUpperCase(),
  lower: (v, c) => str(v, 'lower', c.pos).toLowerCase(),
  trim: (v, c) => str(v, 'trim', c.pos).trim(),
  capitalize: (v, c) => {
    const s = str(v, 'capitalize', c.pos);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  },
  replace: (v, c) =>
    str(v, 'replace', c.pos)
      .split(str(arg(c, 0, 'old'), 'replace', c.pos))
      .join(str(arg(c, 1, 'new', ''), 'replace', c.pos)),
  split: (v, c) => str(v, 'split', c.pos).split(str(arg(c, 0, 'sep', ' '), 'split', c.pos)),
  join: (v, c) =>
    list(v, 'join', c.pos)
      .map(toText)
      .join(str(arg(c, 0, 'sep', ''), 'join', c.pos)),
  first: (v, c) => list(v, 'first', c.pos)[0] ?? UNDEFINED,
  last: (v, c) => list(v, 'last', c.pos).at(-1) ?? UNDEFINED,
  length: (v, c) => (isPlainObject(v) ? Object.keys(v).length : list(v, 'length', c.pos).length),
  list: (v, c) => [...list(v, 'list', c.pos)],
  map: (v, c) => {
    const attr = arg(c, 0, 'attribute');
    if (attr === undefined) throw new ExpressionError(`filter 'map' needs attribute=`, c.pos);
    const items = list(v, 'map', c.pos);
    if (!('attribute' in c.kwargs) && typeof attr === 'string' && Object.prototype.hasOwnProperty.call(FILTERS, attr))
      return items.map((x) => FILTERS[attr]!(x, { args: c.args.slice(1), kwargs: {}, pos: c.pos, charge: c.charge }));
    return items.map((x) => attrOf(x, attr, c.pos));
  },
  select: (v, c) => list(v, 'select', c.pos).filter(matcher(c)),
  filter: (v, c) => list(v, 'filter', c.pos).filter(matcher(c)),
  reject: (v, c) => {
    const m = matcher(c);
    return list(v, 'reject', c.pos).filter((x) => !m(x));
  },
  sort: (v, c) => {
    const attr = arg(c, 1, 'attribute');
    const key = (x: Value): Value => (attr === undefined ? x : attrOf(x, attr, c.pos));
    const sorted = [...list(v, 'sort', c.pos)].sort((a, b) => compare(key(a), key(b), c.pos, c.charge));
    return truthy(arg(c, 0, 'reverse', false)) ? sorted.reverse() : sorted;
  },
  unique: (v, c) => {
    const seen = new Set<string>();
    return list(v, 'unique', c.pos).filter((x) => {
      const key = equalityKey(x, c.charge);
      return !seen.has(key) && Boolean(seen.add(key));
    });
  },
  reverse: (v, c) => (typeof v === 'string' ? [...v].reverse().join('') : [...list(v, 'reverse', c.pos)].reverse()),
  slice: (v, c) => {
    const start = arg(c, 0, 'start', 0);
    const end = arg(c, 1, 'end', null);
    const xs = typeof v === 'string' ? v : list(v, 'slice', c.pos);
    return xs.slice(int(start, 'slice', c.pos), end === null || end === UNDEFINED ? undefined : int(end, 'slice', c.pos));
  },
  batch: (v, c) => {
    const size = int(arg(c, 0, 'size'), 'batch', c.pos);
    if (size < 1) throw new ExpressionError(`filter 'batch' needs size >= 1`, c.pos);
    const xs = list(v, 'batch', c.pos);
    const out: Value[][] = [];
    for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
    return out;
  },
  sum: (v, c) => {
    const attr = arg(c, 0, 'attribute');
    return list(v, 'sum', c.pos).reduce<number>(
      (acc, x) => acc + toNumber(attr === undefined ? x : attrOf(x, attr, c.pos), 'sum', c.pos),
      toNumber(arg(c, 1, 'start', 0), 'sum', c.pos),
    );
  },
  min: (v, c) => list(v, 'min', c.pos).reduce((a, b) => (a === UNDEFINED || compare(b, a, c.pos, c.charge) < 0 ? b : a), UNDEFINED),
  max: (v, c) => list(v, 'max', c.pos).reduce((a, b) => (a === UNDEFINED || compare(b, a, c.pos, c.charge) > 0 ? b : a), UNDEFINED),
  round: (v, c) => {
    const p = int(arg(c, 0, 'precision', 0), 'round', c.pos);
    const f = 10 ** p;
    return Math.round(toNumber(v, 'round', c.pos) * f) / f;
  },
  int: (v, c) => Math.trunc(toNumber(v, 'int', c.pos)),
  float: (v, c) => toNumber(v, 'float', c.pos),
  string: (v) => toText(v),
  bool: (v) => (typeof v === 'string' ? ['true', 'yes', 'on', '1'].includes(v.trim().toLowerCase()) : truthy(v)),
  default: (v, c) => {
    const fallback = arg(c, 0, 'value', '');
    const orFalsy = truthy(arg(c, 1, 'boolean', false));
    return v === UNDEFINED || v === null || (orFalsy && !truthy(v)) ? fallback : v;
  },
  from_json: (v, c) => {
    try {
      return JSON.parse(str(v, 'from_json', c.pos)) as Value;
    } catch (err) {
      throw new ExpressionError(`filter 'from_json': ${(err as Error).message}`, c.pos);
    }
  },
  to_json: (v) => JSON.stringify(toPlain(v)),
  keys: (v, c) => Object.keys(map(v, 'keys', c.pos)),
  values: (v, c) => Object.values(map(v, 'values', c.pos)),
  items: (v, c) => Object.entries(map(v, 'items', c.pos)),
  append: (v, c) => [...list(v, 'append', c.pos), arg(c, 0, 'item')],
  prepend: (v, c) => [arg(c, 0, 'item'), ...list(v, 'prepend', c.pos)],
  merge: (v, c) => {
    const out: Record<string, Value> = { ...map(v, 'merge', c.pos) };
    for (const other of c.args) for (const [k, x] of Object.entries(map(other, 'merge', c.pos))) if (!FORBIDDEN_KEYS.has(k)) out[k] = x;
    for (const [k, x] of Object.entries(c.kwargs)) out[k] = x;
    return out;
  },
  dictsort: (v, c) => Object.entries(map(v, 'dictsort', c.pos)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
};

export const FILTER_NAMES = Object.keys(FILTERS);
