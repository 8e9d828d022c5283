import type { ValidateFunction } from 'ajv';
import { describeAjvError, instancePathParts } from './ajv.js';
import { formatPath, parseYamlSource, type PathPart, type YamlSource } from './source.js';
import type { Diagnostic } from './types.js';

/** A YAML configuration file checked against its JSON Schema; every problem carries a position. */
export function parseConfigYaml<T>(text: string, validate: ValidateFunction): { value: T | null; diagnostics: Diagnostic[]; src: YamlSource } {
  const src = parseYamlSource(text);
  const diagnostics: Diagnostic[] = src.syntaxErrors.map((e) => ({ severity: 'error', ...e, message: `YAML: ${e.message}`, path: '' }));
  if (diagnostics.length) return { value: null, diagnostics, src };
  if (!validate(src.value ?? {})) {
    for (const e of validate.errors ?? []) {
      const parts = instancePathParts(e);
      diagnostics.push({ severity: 'error', ...src.positionOf(parts), message: describeAjvError(e, formatPath(parts)), path: formatPath(parts) });
    }
    return { value: null, diagnostics, src };
  }
  return { value: (src.value ?? {}) as T, diagnostics, src };
}

/** An error at `path` of a parsed file. */
export function errorAt(src: YamlSource, path: PathPart[], message: string): Diagnostic {
  return { severity: 'error', ...src.positionOf(path), message: `${formatPath(path)}: ${message}`, path: formatPath(path) };
}
