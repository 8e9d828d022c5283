import workflowSchema from '../schemas/workflow.schema.json' with { type: 'json' };
import { createAjv, describeAjvError, instancePathParts } from './ajv.js';
import { isBuiltin } from './builtins.js';
import { compileGraph } from './compile.js';
import { formatPath, parseYamlSource, type PathPart } from './source.js';
import { checkTemplates } from './templates-check.js';
import { pathParts, readDialect, type DialectOptions } from './dialects/index.js';
import { FORBIDDEN_KEYS } from './expr/values.js';
import type { CompiledWorkflow, Diagnostic, Limits } from './types.js';

export interface ValidateOptions {
  /** Refs known besides the built-ins: pack actions, registered workflows, mocks. */
  isKnownAction?: (ref: string) => boolean;
  /** Turn unknown action refs into warnings. */
  allowUnknownActions?: boolean;
  /** Tasks a mock answers for by name: whatever their action, it never runs. */
  isMockedTask?: (name: string) => boolean;
  /** The operator's limits (config/limits.yaml): a file may lower them, never raise them. */
  limits?: Limits;
  /** The ref (and version) of a file in another dialect, which has none of its own (dsl/dialects/). */
  dialect?: DialectOptions;
}

export interface ValidationResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  workflow?: CompiledWorkflow;
}

const ajv = createAjv();
/** StackStorm actions with no Closeloop meaning: an error that says so unless a pack action or a mock provides them. */
const ST2_ONLY = new Set(['core.local', 'core.local_sudo', 'core.remote', 'core.remote_sudo', 'core.winrm_cmd', 'core.winrm_ps_cmd', 'linux.wait_for_ssh']);
const validateShape = ajv.compile(workflowSchema);

/** The most useful ajv error per location: `oneOf` noise is dropped when a precise error exists. */
function pickErrors<T extends { instancePath: string; keyword: string; params: unknown }>(errors: T[]): T[] {
  const precise = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  const byPath = new Map<string, T>();
  for (const e of precise.length ? precise : errors) {
    // every unknown key of an object is its own error, not one per object
    const key = `${e.instancePath}|${e.keyword}|${e.keyword === 'additionalProperties' ? (e.params as { additionalProperty: string }).additionalProperty : ''}`;
    if (!byPath.has(key)) byPath.set(key, e);
  }
  return [...byPath.values()];
}

/** Validates and compiles a workflow file. Every diagnostic carries a line and column. */
export function validateWorkflow(text: string, options: ValidateOptions = {}): ValidationResult {
  const parsed = parseYamlSource(text);
  const diagnostics: Diagnostic[] = parsed.syntaxErrors.map((e) => ({ severity: 'error', ...e, message: `YAML: ${e.message}`, path: '' }));
  if (diagnostics.length) return { ok: false, diagnostics };
  const dialect = readDialect(parsed, options.dialect ?? {});
  const src = dialect.src;
  diagnostics.push(...dialect.diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  if (src.value === null || typeof src.value !== 'object' || Array.isArray(src.value)) {
    return {
      ok: false,
      diagnostics: [{ severity: 'error', line: 1, col: 1, message: 'a workflow file must be a YAML map with ref, version and tasks', path: '' }],
    };
  }
  if (!validateShape(src.value)) {
    for (const e of pickErrors(validateShape.errors ?? [])) {
      const parts = instancePathParts(e);
      const extra = e.keyword === 'additionalProperties' ? [(e.params as { additionalProperty: string }).additionalProperty] : [];
      const { line, col } = src.positionOf([...parts, ...extra], { key: extra.length > 0 });
      diagnostics.push({ severity: 'error', line, col, message: describeAjvError(e, formatPath(parts)), path: formatPath(parts) });
    }
    return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  }

  const raw = src.value as Parameters<typeof compileGraph>[0];
  const workflow = compileGraph(raw, src, diagnostics, options.limits);
  checkTemplates(raw.output_map, ['output_map'], src, diagnostics);
  checkTemplates(raw.vars, ['vars'], src, diagnostics);
  checkWrittenKeys(raw.vars, ['vars'], src, diagnostics);
  const walk = (tasks: Record<string, unknown>[], base: PathPart[]) =>
    tasks.forEach((t, i) => {
      const p = [...base, i];
      checkWrittenKeys(t.publish, [...p, 'publish'], src, diagnostics);
      if (Array.isArray(t.next))
        t.next.forEach((n, j) => checkWrittenKeys((n as { publish?: unknown })?.publish, [...p, 'next', j, 'publish'], src, diagnostics));
      for (const key of ['input', 'when', 'with_items', 'publish', 'next', 'decision', 'retry']) checkTemplates(t[key], [...p, key], src, diagnostics);
      const action = (t.action ?? t.workflow) as string | undefined;
      if (action && !options.isMockedTask?.(String(t.name))) checkAction(action, [...p, t.action ? 'action' : 'workflow']);
      if (Array.isArray(t.tasks)) walk(t.tasks as Record<string, unknown>[], [...p, 'tasks']);
    });
  function checkAction(ref: string, path: PathPart[]) {
    if (isBuiltin(ref) || options.isKnownAction?.(ref)) return;
    const { line, col } = src.positionOf(path);
    const st2 = ST2_ONLY.has(ref)
      ? `; StackStorm's ${ref} runs commands on StackStorm's own hosts, which Closeloop has no equivalent for: write a pack action`
      : '';
    const what = `${formatPath(path)}: unknown action '${ref}' (not a built-in, a pack action or a registered workflow${st2}`;
    // with --allow-unknown-actions the user has already said what to do: the warning only names the ref
    const message = options.allowUnknownActions ? `${what})` : `${what}; mock it with --mock or pass --allow-unknown-actions)`;
    diagnostics.push({ severity: options.allowUnknownActions ? 'warning' : 'error', line, col, message, path: formatPath(path) });
  }
  walk(raw.tasks as Record<string, unknown>[], ['tasks']);

  if (raw.output) {
    try {
      ajv.compile(raw.output as object);
    } catch (err) {
      const { line, col } = src.positionOf(['output']);
      diagnostics.push({ severity: 'error', line, col, message: `output: not a valid JSON Schema: ${(err as Error).message}`, path: 'output' });
    }
  }
  try {
    ajv.compile(workflow.parameters);
  } catch (err) {
    const { line, col } = src.positionOf(['parameters']);
    diagnostics.push({ severity: 'error', line, col, message: `parameters: not a valid JSON Schema: ${(err as Error).message}`, path: 'parameters' });
  }

  // a dialect's file: each message names the path as the user's file spells it
  if (dialect.userPath)
    for (const d of diagnostics)
      if (d.path && d.message.startsWith(d.path)) {
        const user = dialect.userPath(pathParts(d.path));
        d.message = user + d.message.slice(d.path.length);
        d.path = user;
      }
  const sorted = sortDiagnostics(diagnostics);
  const ok = !sorted.some((d) => d.severity === 'error');
  return ok ? { ok, diagnostics: sorted, workflow } : { ok, diagnostics: sorted };
}

function sortDiagnostics(d: Diagnostic[]): Diagnostic[] {
  return [...d].sort((a, b) => a.line - b.line || a.col - b.col);
}

export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

/** `vars` and `publish` write keys into the run's variables: none may name a prototype property. */
function checkWrittenKeys(value: unknown, path: PathPart[], src: ReturnType<typeof parseYamlSource>, out: Diagnostic[]): void {
  const entries: [PathPart[], string][] = [];
  if (Array.isArray(value))
    value.forEach((e, i) => {
      if (typeof e === 'string') entries.push([[...path, i], e]);
      else if (e && typeof e === 'object') for (const k of Object.keys(e)) entries.push([[...path, i, k], k]);
    });
  else if (value && typeof value === 'object') for (const k of Object.keys(value)) entries.push([[...path, k], k]);
  for (const [at, key] of entries) {
    if (!FORBIDDEN_KEYS.has(key)) continue;
    const { line, col } = src.positionOf(at, { key: typeof at[at.length - 1] === 'string' });
    out.push({
      severity: 'error',
      line,
      col,
      message: `${formatPath(at)}: a variable named '${key}' is not allowed (it would reach the object's prototype)`,
      path: formatPath(at),
    });
  }
}
