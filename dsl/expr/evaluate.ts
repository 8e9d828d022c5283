import type { Node } from './ast.js';
import { ExpressionError } from './errors.js';
import { FILTERS } from './filters.js';
import { FORBIDDEN_KEYS, HostFunction, UNDEFINED, compare, deepEqual, getKey, isPlainObject, toText, truthy, typeName, type Value } from './values.js';

export interface Limits {
  /**
   * The cost budget of one template, in units of work: each node visited costs one, each filter
   * costs the size of its input and output plus what it does beyond that (a sort pays per
   * comparison), each comparison of nested values pays per value visited. A million units take
   * well under a tenth of a second, so no template can hold a workflow task (dsl.md "Limits").
   */
  maxSteps: number;
  /** Largest string or list a template may build. */
  maxSize: number;
  /** Accumulates the units every evaluation spent, so the interpreter can pace a long activation. */
  meter?: { used: number };
}
export const DEFAULT_LIMITS: Limits = { maxSteps: 1_000_000, maxSize: 1_000_000 };

export type Scope = Record<string, Value>;

interface Budget {
  steps: number;
  limits: Limits;
}

export function evaluateNode(node: Node, scope: Scope, limits: Limits = DEFAULT_LIMITS): Value {
  const budget = { steps: 0, limits };
  try {
    return new Evaluator(scope, budget).eval(node);
  } finally {
    if (limits.meter) limits.meter.used += budget.steps;
  }
}

function sizeOf(v: Value): number {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  return isPlainObject(v) ? Object.keys(v).length : 0;
}

class Evaluator {
  constructor(
    private readonly scope: Scope,
    private readonly budget: Budget,
  ) {}

  /** A value the expression built: its size is checked and paid for. */
  private built(v: Value, pos: number): Value {
    this.charge(sizeOf(v), pos);
    return this.checkSize(v, pos);
  }

  private checkSize(v: Value, pos: number): Value {
    if (sizeOf(v) > this.budget.limits.maxSize) throw new ExpressionError(`value larger than ${this.budget.limits.maxSize} elements`, pos);
    return v;
  }

  /** Counts work against the cost budget. */
  private charge(units: number, pos: number): void {
    this.budget.steps += units;
    if (this.budget.steps > this.budget.limits.maxSteps)
      throw new ExpressionError(`expression exceeded its cost budget of ${this.budget.limits.maxSteps} units (dsl.md "Limits"): it does too much work`, pos);
  }

  private meter(pos: number): (units: number) => void {
    return (units) => this.charge(units, pos);
  }

  eval(node: Node): Value {
    this.charge(1, node.pos);
    switch (node.t) {
      case 'lit':
        return node.v;
      case 'name':
        return Object.prototype.hasOwnProperty.call(this.scope, node.name) ? this.scope[node.name] : UNDEFINED;
      case 'list':
        return node.items.map((x) => this.eval(x));
      case 'map': {
        const out: Record<string, Value> = {};
        for (const [k, v] of node.entries) {
          const key = this.eval(k);
          if (typeof key !== 'string' && typeof key !== 'number')
            throw new ExpressionError(`a map key must be a string or number, got ${typeName(key)}`, k.pos);
          if (FORBIDDEN_KEYS.has(String(key))) throw new ExpressionError(`a map key named '${key}' is not allowed`, k.pos);
          out[String(key)] = this.eval(v);
        }
        return out;
      }
      case 'attr':
        return getKey(this.eval(node.obj), node.name, node.pos, describe(node.obj));
      case 'index':
        return getKey(this.eval(node.obj), this.eval(node.index), node.pos, describe(node.obj));
      case 'call': {
        const fn = this.eval(node.fn);
        if (!(fn instanceof HostFunction)) throw new ExpressionError(`${describe(node.fn)} is not a function`, node.pos);
        const kwargs = Object.fromEntries(node.kwargs.map(([k, v]) => [k, this.eval(v)]));
        try {
          const out = fn.fn(
            node.args.map((a) => this.eval(a)),
            kwargs,
          );
          this.charge(sizeOf(out), node.pos);
          return this.checkSize(out, node.pos);
        } catch (err) {
          if (err instanceof ExpressionError) throw err;
          throw new ExpressionError(`${fn.name}(): ${(err as Error).message}`, node.pos);
        }
      }
      case 'filter': {
        const filter = FILTERS[node.name];
        if (!filter || !Object.prototype.hasOwnProperty.call(FILTERS, node.name)) throw new ExpressionError(`unknown filter '${node.name}'`, node.pos);
        const value = this.eval(node.value);
        const args = node.args.map((a) => this.eval(a));
        const kwargs = Object.fromEntries(node.kwargs.map(([k, v]) => [k, this.eval(v)]));
        this.charge(sizeOf(value), node.pos);
        const out = this.checkSize(filter(value, { args, kwargs, pos: node.pos, charge: this.meter(node.pos) }), node.pos);
        this.charge(sizeOf(out), node.pos);
        return out;
      }
      case 'unary': {
        const v = this.eval(node.arg);
        if (node.op === 'not') return !truthy(v);
        if (typeof v !== 'number') throw new ExpressionError(`unary '${node.op}' needs a number, got ${typeName(v)}`, node.pos);
        return node.op === '-' ? -v : v;
      }
      case 'cond':
        if (truthy(this.eval(node.test))) return this.eval(node.then);
        return node.else ? this.eval(node.else) : UNDEFINED;
      case 'test':
        return runTest(node.name, this.eval(node.value), node.pos) !== node.negate;
      case 'binary':
        return this.binary(node);
    }
  }

  private binary(node: Extract<Node, { t: 'binary' }>): Value {
    if (node.op === 'and') {
      const l = this.eval(node.left);
      return truthy(l) ? this.eval(node.right) : l;
    }
    if (node.op === 'or') {
      const l = this.eval(node.left);
      return truthy(l) ? l : this.eval(node.right);
    }
    const l = this.eval(node.left);
    const r = this.eval(node.right);
    switch (node.op) {
      case '==':
        return deepEqual(l, r, this.meter(node.pos));
      case '!=':
        return !deepEqual(l, r, this.meter(node.pos));
      case '<':
        return compare(l, r, node.pos, this.meter(node.pos)) < 0;
      case '>':
        return compare(l, r, node.pos, this.meter(node.pos)) > 0;
      case '<=':
        return compare(l, r, node.pos, this.meter(node.pos)) <= 0;
      case '>=':
        return compare(l, r, node.pos, this.meter(node.pos)) >= 0;
      case 'in':
        this.charge(sizeOf(r), node.pos);
        if (typeof r === 'string') return typeof l === 'string' && r.includes(l);
        if (Array.isArray(r)) return r.some((x) => deepEqual(x, l, this.meter(node.pos)));
        if (isPlainObject(r)) return typeof l === 'string' && Object.prototype.hasOwnProperty.call(r, l);
        throw new ExpressionError(`'in' needs a list, map or string on the right, got ${typeName(r)}`, node.pos);
      case '~':
        return this.built(toText(l) + toText(r), node.pos);
      case '+':
        if (typeof l === 'number' && typeof r === 'number') return l + r;
        if (typeof l === 'string' && typeof r === 'string') return this.built(l + r, node.pos);
        if (Array.isArray(l) && Array.isArray(r)) {
          if (l.length + r.length > this.budget.limits.maxSize) throw new ExpressionError(`value larger than ${this.budget.limits.maxSize} elements`, node.pos);
          return this.built([...l, ...r], node.pos);
        }
        break;
      default:
        if (typeof l === 'number' && typeof r === 'number') return arithmetic(node.op, l, r, node.pos);
        if (node.op === '*' && typeof l === 'string' && typeof r === 'number') {
          if (l.length * r > this.budget.limits.maxSize) throw new ExpressionError(`value larger than ${this.budget.limits.maxSize} elements`, node.pos);
          return this.built(l.repeat(Math.max(0, Math.trunc(r))), node.pos);
        }
    }
    throw new ExpressionError(`cannot apply '${node.op}' to ${typeName(l)} and ${typeName(r)}`, node.pos);
  }
}

function arithmetic(op: string, l: number, r: number, pos: number): number {
  if ((op === '/' || op === '//' || op === '%') && r === 0) throw new ExpressionError('division by zero', pos);
  switch (op) {
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '//':
      return Math.floor(l / r);
    case '%':
      return ((l % r) + r) % r;
    default:
      return l ** r;
  }
}

function runTest(name: string, v: Value, pos: number): boolean {
  switch (name) {
    case 'defined':
      return v !== UNDEFINED;
    case 'undefined':
      return v === UNDEFINED;
    case 'none':
      return v === null;
    case 'number':
      return typeof v === 'number';
    case 'string':
      return typeof v === 'string';
    case 'mapping':
      return isPlainObject(v);
    case 'sequence':
    case 'iterable':
      return Array.isArray(v) || typeof v === 'string';
    case 'true':
      return v === true;
    case 'false':
      return v === false;
    default:
      throw new ExpressionError(`unknown test '${name}'`, pos);
  }
}

function describe(node: Node): string {
  if (node.t === 'name') return `'${node.name}'`;
  if (node.t === 'attr') return `${describe(node.obj).replace(/'$/, '')}.${node.name}'`;
  return 'value';
}
