import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats ships CommonJS; under NodeNext its default export arrives wrapped.
type AddFormats = (ajv: Ajv2020) => unknown;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

/** One shared ajv instance: schemas compile once and are cached by identity. */
export function createAjv(options: { useDefaults?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: options.useDefaults ?? false });
  addFormats(ajv);
  return ajv;
}

/** `instancePath` ("/tasks/2/name") as path parts. */
export function instancePathParts(e: ErrorObject): (string | number)[] {
  return e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** Our schemas' patterns, said in words: a message never shows a raw regular expression. */
const PATTERN_RULES: Record<string, string> = {
  '^[a-z0-9_]+(\\.[a-z0-9_]+)+$': 'must be <pack>.<name>: lower-case letters, digits and underscores, in parts joined by dots (like billing.close_invoice)',
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$': 'must be a semantic version, major.minor.patch (like 1.0.0)',
  '^[A-Za-z0-9_.-]+$': "may hold only letters, digits, '_', '.' and '-'",
  '^[a-z0-9][a-z0-9_.-]{0,127}$': "must be 1 to 128 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit",
  '^[A-Za-z0-9_.:-]{1,200}$': "must be 1 to 200 letters, digits, '_', '.', ':' or '-'",
  '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$': "must be words of letters, digits, '_' or '-' joined by dots (like plugin.job.completed)",
  '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$': "must be 1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit",
  '^\\s*[a-z_0-9]+\\s*(>=|<=|>|<|==|!=)\\s*-?[0-9.]+\\s*$': "must compare a measure with a number (like 'consecutive_closure_failures >= 3')",
};

export function describeAjvError(e: ErrorObject, path?: string): string {
  const where = path || (e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'value');
  switch (e.keyword) {
    case 'required':
      return `${where === 'value' ? '' : `${where}: `}missing required field '${(e.params as { missingProperty: string }).missingProperty}'`;
    case 'additionalProperties':
      return `${where === 'value' ? '' : `${where}: `}unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    case 'pattern':
      return `${where}: ${PATTERN_RULES[(e.params as { pattern: string }).pattern] ?? 'does not have the expected form'}`;
    case 'enum':
      return `${where}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${where}: ${e.message ?? 'is invalid'}`;
  }
}

/**
 * Compiled validators kept by schema content (bounded, oldest evicted from ajv too): ajv caches by
 * object identity, and schemas that come from the database or workflow input are new objects each time.
 */
export function validatorCache(ajv: Ajv2020, max = 500): (schema: object) => ReturnType<Ajv2020['compile']> {
  const cache = new Map<string, { schema: object; validate: ReturnType<Ajv2020['compile']> }>();
  return (schema) => {
    const key = JSON.stringify(schema);
    const hit = cache.get(key);
    if (hit) return hit.validate;
    const entry = { schema, validate: ajv.compile(schema) };
    cache.set(key, entry);
    if (cache.size > max) {
      const [oldKey, old] = cache.entries().next().value!;
      cache.delete(oldKey);
      ajv.removeSchema(old.schema);
    }
    return entry.validate;
  };
}

let shared: ReturnType<typeof validatorCache> | undefined;

/** Problems of `value` against a JSON Schema, each located under `root` (`output.total: must be number`); empty when it matches. */
export function schemaProblems(schema: object, value: unknown, root: string): string[] {
  shared ??= validatorCache(createAjv()); // on first use: modules that import this file pay nothing at load
  const validate = shared(schema);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => describeAjvError(e, `${root}${e.instancePath.replace(/\//g, '.')}`));
}
