// A small, pure JSON Schema check (no code generation) for use inside workflows, e.g. validating
// an inquiry answer in an update validator. The API validates the same answer with ajv first.
type Schema = Record<string, unknown>;

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);

function matchesType(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

/** Returns the problems (empty when valid). Supports type, enum, const, required, properties,
 * additionalProperties, items, minimum/maximum, minLength/maxLength, minItems/maxItems, pattern. */
export function checkSchema(schema: Schema | undefined, value: unknown, path = 'response', depth = 0): string[] {
  if (!schema || typeof schema !== 'object' || depth > 32) return [];
  const out: string[] = [];
  const types = schema.type === undefined ? null : Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  if (types && !types.some((t) => matchesType(value, t))) return [`${path}: must be ${types.join(' or ')}`];
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    out.push(`${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) out.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) out.push(`${path}: must be >= ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) out.push(`${path}: must be <= ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) out.push(`${path}: must have at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) out.push(`${path}: must have at most ${schema.maxLength} characters`);
    if (typeof schema.pattern === 'string' && schema.pattern.length <= 200 && !new RegExp(schema.pattern, 'u').test(value))
      out.push(`${path}: must match pattern ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) out.push(`${path}: must have at least ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) out.push(`${path}: must have at most ${schema.maxItems} items`);
    if (schema.items && typeof schema.items === 'object')
      value.forEach((v, i) => out.push(...checkSchema(schema.items as Schema, v, `${path}[${i}]`, depth + 1)));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const k of (schema.required as string[] | undefined) ?? [])
      if (!Object.prototype.hasOwnProperty.call(obj, k)) out.push(`${path}: missing required field '${k}'`);
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [k, v] of Object.entries(obj)) {
      if (Object.prototype.hasOwnProperty.call(props, k)) out.push(...checkSchema(props[k], v, `${path}.${k}`, depth + 1));
      else if (schema.additionalProperties === false) out.push(`${path}: unknown field '${k}'`);
    }
  }
  return out;
}

/** Fills in `default`s of top-level properties (as ajv's useDefaults does for parameters). */
export function applyDefaults(schema: Schema | undefined, value: Record<string, unknown>): Record<string, unknown> {
  const out = { ...value };
  const props = (schema?.properties as Record<string, Schema> | undefined) ?? {};
  for (const [k, p] of Object.entries(props)) if (!(k in out) && p && 'default' in p) out[k] = JSON.parse(JSON.stringify(p.default)) as unknown;
  return out;
}
