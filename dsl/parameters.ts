import type { JsonSchema } from './types.js';
import { createAjv, describeAjvError, validatorCache } from './ajv.js';

const EXTRAS = ['required', 'secret', 'immutable', 'position'];

/** Normalises StackStorm-style parameters (`name: {type, required, secret}`) into one JSON Schema. */
export function normaliseParameters(params: unknown): { schema: JsonSchema; secrets: string[] } {
  if (params === undefined || params === null) return { schema: { type: 'object', properties: {} }, secrets: [] };
  const p = params as Record<string, unknown>;
  if (p.type === 'object' && typeof p.properties === 'object') {
    const props = p.properties as Record<string, Record<string, unknown>>;
    return { schema: p, secrets: Object.keys(props).filter((k) => props[k]?.secret === true) };
  }
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  const secrets: string[] = [];
  for (const [name, spec] of Object.entries(p)) {
    const s = { ...(spec as Record<string, unknown>) };
    if (s.required === true) required.push(name);
    if (s.secret === true) secrets.push(name);
    for (const k of EXTRAS) if (typeof s[k] !== 'object') delete s[k];
    properties[name] = s;
  }
  return { schema: { type: 'object', properties, required, additionalProperties: false }, secrets };
}

export class ParameterError extends Error {
  override readonly name = 'ParameterError';
  constructor(readonly problems: { field: string; message: string }[]) {
    super(`invalid parameters: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  }
}

const ajv = createAjv({ useDefaults: true });
const validatorFor = validatorCache(ajv);

/** Validates the input and applies defaults; throws ParameterError naming each bad field. */
export function validateParameters(schema: JsonSchema, input: unknown): Record<string, unknown> {
  const value = structuredClone(input ?? {}) as Record<string, unknown>;
  const validate = validatorFor(schema);
  if (!validate(value)) {
    throw new ParameterError(
      (validate.errors ?? []).map((e) => {
        const missing =
          (e.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ??
          (e.params as { additionalProperty?: string }).additionalProperty;
        const field = missing ?? (e.instancePath.slice(1).replace(/\//g, '.') || 'parameters');
        return {
          field,
          message:
            e.keyword === 'required'
              ? 'is required'
              : e.keyword === 'additionalProperties'
                ? 'is not a declared parameter'
                : describeAjvError(e).replace(/^[^:]*: /, ''),
        };
      }),
    );
  }
  return value;
}
