// Other dialects (dsl.md "Other dialects"): a file in Orquesta's native format is read into
// Closeloop's shape before validation; its diagnostics still point into the user's file.
import type { Diagnostic } from '../types.js';
import { formatPath, type PathPart, type YamlSource } from '../source.js';
import { fromOrquesta, isOrquesta } from './orquesta.js';
import { normaliseParameters } from '../parameters.js';

export interface DialectOptions {
  /** The workflow's ref when the file has none (Orquesta files never do): `<pack>.<file stem>`. */
  ref?: string;
  version?: string;
  /** Keys an Attune workflow action gives its graph file (label, description, parameters, output). */
  meta?: Record<string, unknown>;
}

/** The source as Closeloop reads it, and what reading it found; `dialect` is null for Closeloop's own files. */
export function readDialect(
  src: YamlSource,
  opts: DialectOptions,
): { src: YamlSource; diagnostics: Diagnostic[]; dialect: 'orquesta' | null; userPath?: (p: PathPart[]) => string } {
  if (!isOrquesta(src.value)) return closeloopOrAttune(src, opts);
  const n = fromOrquesta(src.value, opts);
  const diagnostics = n.problems.map((p): Diagnostic => {
    const at = src.positionOf(p.path, { key: !!p.key });
    // an expression's column: its offset inside the value (plus the opening quote)
    const col = p.offset !== undefined && !src.isQuoted(p.path) ? at.col + p.offset : p.offset !== undefined ? at.col + 1 + p.offset : at.col;
    return { severity: p.severity, line: at.line, col, message: p.message, path: formatPath(p.path) };
  });
  const wrapped: YamlSource = {
    value: n.value,
    syntaxErrors: [],
    rewritten: true,
    positionOf: (path, o) => src.positionOf(n.originalPath(path), o),
    isQuoted: () => false,
  };
  const ref = (n.value.ref as string | undefined) ?? '?';
  diagnostics.push({
    severity: 'warning',
    line: 1,
    col: 1,
    path: '',
    message: `read as a StackStorm Orquesta workflow (tasks as a map${src.value.version !== undefined ? `, language version ${typeof src.value.version === 'number' ? src.value.version.toFixed(1) : String(src.value.version)}` : ''}); its ref is '${ref}' (from the file name unless given)`,
  });
  return { src: wrapped, diagnostics, dialect: 'orquesta', userPath: (p) => formatPath(n.originalPath(p)) };
}

/** `tasks[2].next[0].do` → ['tasks', 2, 'next', 0, 'do']. */
export function pathParts(path: string): PathPart[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

/**
 * Closeloop's own shape (Attune's is the same): a file without `ref` takes the one it is registered
 * under (an Attune pack names its workflow files), and a two-part version (`"1.0"`, or the number
 * 1.0) is read as `1.0.0`; each is said in a warning.
 */
function closeloopOrAttune(src: YamlSource, opts: DialectOptions): { src: YamlSource; diagnostics: Diagnostic[]; dialect: null } {
  const doc = src.value as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { src, diagnostics: [], dialect: null };
  const diagnostics: Diagnostic[] = [];
  const value = { ...doc };
  const at = (path: PathPart[]) => src.positionOf(path);
  for (const [k, v] of Object.entries(opts.meta ?? {})) if (value[k] === undefined) value[k] = v;
  if (opts.meta && Object.keys(opts.meta).length)
    diagnostics.push({
      severity: 'warning',
      line: 1,
      col: 1,
      path: '',
      message: `${Object.keys(opts.meta).join(', ')}: from the action file that names this workflow`,
    });
  if (value.output !== undefined && !isJsonSchema(value.output)) value.output = { ...normaliseParameters(value.output).schema, additionalProperties: true };
  if (value.ref === undefined && opts.ref) {
    value.ref = opts.ref;
    diagnostics.push({ severity: 'warning', line: 1, col: 1, path: 'ref', message: `no ref in the file: registered as '${opts.ref}'` });
  }
  const v = value.version;
  if ((typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && /^\d+\.\d+$/.test(v))) {
    const read = /^\d+\.\d+$/.test(String(v)) ? `${String(v)}.0` : `${String(v)}.0.0`;
    value.version = read;
    diagnostics.push({
      severity: 'warning',
      ...at(['version']),
      path: 'version',
      message: `version ${typeof v === 'number' ? `${Number.isInteger(v) ? v.toFixed(1) : v} (a number)` : JSON.stringify(v)} read as '${read}' (versions are semver: major.minor.patch)`,
    });
  }
  // Attune's keys around the workflow: its name (the label), the output's schema, free metadata
  if (typeof value.name === 'string') {
    value.label ??= value.name;
    delete value.name;
  }
  if (value.output_schema !== undefined && value.output === undefined) {
    const { schema } = normaliseParameters(value.output_schema);
    value.output = { ...schema, additionalProperties: true };
    delete value.output_schema;
  }
  if (value.metadata !== undefined) {
    delete value.metadata;
    diagnostics.push({ severity: 'warning', ...at(['metadata']), path: 'metadata', message: 'metadata: documentation only, not kept with the workflow' });
  }
  if (!diagnostics.length && value.label === doc.label && value.output === doc.output && value.parameters === doc.parameters)
    return { src, diagnostics, dialect: null };
  return { src: { ...src, value }, diagnostics, dialect: null };
}

/** An output given StackStorm-style (`name: {type}` per property) rather than as a JSON Schema. */
const isJsonSchema = (v: unknown) => !!v && typeof v === 'object' && ('type' in v || 'properties' in v || '$ref' in v || 'oneOf' in v || 'anyOf' in v);
