import { ExpressionError } from './errors.js';

/** A missing variable or key: renders as '' and becomes null as a typed value (Jinja semantics). */
export const UNDEFINED: unique symbol = Symbol('undefined');
export type Value = unknown;

/** A function a scope exposes to templates (e.g. `succeeded()`, `kv.get`). */
export class HostFunction {
  constructor(
    readonly name: string,
    readonly fn: (args: Value[], kwargs: Record<string, Value>) => Value,
  ) {}
}

/** Keys that would reach an object's prototype: never read, and never written (map literals, merge, publish, vars). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

export function isPlainObject(v: Value): v is Record<string, Value> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Own-property read only: templates never reach prototypes. */
export function getKey(obj: Value, key: Value, pos: number, label: string): Value {
  if (obj === UNDEFINED || obj === null || obj === undefined) {
    throw new ExpressionError(`cannot read '${String(key)}' of ${obj === null ? 'null' : 'undefined'} ${label}`, pos);
  }
  if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) throw new ExpressionError(`access to '${key}' is not allowed`, pos);
  if (Array.isArray(obj) || typeof obj === 'string') {
    if (typeof key !== 'number' || !Number.isInteger(key)) {
      if (key === 'length') return obj.length;
      throw new ExpressionError(`a ${Array.isArray(obj) ? 'list' : 'string'} index must be an integer`, pos);
    }
    const i = key < 0 ? obj.length + key : key;
    return i >= 0 && i < obj.length ? obj[i] : UNDEFINED;
  }
  if (isPlainObject(obj)) {
    const k = String(key);
    return Object.prototype.hasOwnProperty.call(obj, k) ? obj[k] : UNDEFINED;
  }
  throw new ExpressionError(`cannot read '${String(key)}' of a ${typeName(obj)}`, pos);
}

export function typeName(v: Value): string {
  if (v === UNDEFINED || v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (v instanceof HostFunction) return 'function';
  if (typeof v === 'object') return 'map';
  return typeof v;
}

export function truthy(v: Value): boolean {
  if (v === UNDEFINED || v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Charges work against the expression's cost budget (dsl.md "Limits"); throws when it is spent. */
export type Meter = (units: number) => void;
const free: Meter = () => {};

/** Structural equality; `charge` pays one unit per value visited. */
export function deepEqual(a: Value, b: Value, charge: Meter = free): boolean {
  charge(1);
  if (a === UNDEFINED) a = null;
  if (b === UNDEFINED) b = null;
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i], charge));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k], charge));
  }
  return false;
}

/**
 * A string that is equal for exactly the values `deepEqual` calls equal (map keys sorted), so
 * `unique` runs in linear time instead of comparing every pair. Its length is charged.
 */
export function equalityKey(v: Value, charge: Meter = free): string {
  const key = JSON.stringify(canonical(v === UNDEFINED ? null : v));
  charge(key.length);
  return key;
}
// lists and maps are tagged ('l', 'm') and strings prefixed ('s'), so no two kinds of value share a key
function canonical(v: Value): Value {
  if (v === UNDEFINED || v === undefined) return null;
  if (Array.isArray(v)) return ['l', ...v.map(canonical)];
  if (isPlainObject(v))
    return [
      'm',
      ...Object.keys(v)
        .sort()
        .flatMap((k) => [k, canonical(v[k])]),
    ];
  return typeof v === 'string' ? `s${v}` : v;
}

/** Converts a value to plain JSON data: UNDEFINED → null, functions refused. */
export function toPlain(v: Value): Value {
  if (v === UNDEFINED || v === undefined) return null;
  if (v instanceof HostFunction) return null;
  if (Array.isArray(v)) return v.map(toPlain);
  if (isPlainObject(v)) {
    const out: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
    return out;
  }
  return v;
}

/** Text form of a value inside a mixed template. */
export function toText(v: Value): string {
  if (v === UNDEFINED || v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(toPlain(v));
}

export function compare(a: Value, b: Value, pos: number, charge: Meter = free): number {
  charge(1);
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compare(a[i], b[i], pos, charge);
      if (c) return c;
    }
    return a.length - b.length;
  }
  throw new ExpressionError(`cannot compare ${typeName(a)} with ${typeName(b)}`, pos);
}
