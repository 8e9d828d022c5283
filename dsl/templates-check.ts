import { ExpressionError, lineColOf, parseTemplate } from './expr/index.js';
import { formatPath, type PathPart, type YamlSource } from './source.js';
import type { Diagnostic } from './types.js';

/** Parses every template string under `value`, reporting syntax errors at their file position. */
export function checkTemplates(value: unknown, path: PathPart[], src: YamlSource, out: Diagnostic[], depth = 0): void {
  if (depth > 100) return;
  if (typeof value === 'string') {
    if (!value.includes('{{')) return;
    try {
      parseTemplate(value);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      const at = src.positionOf(path);
      const inner = lineColOf(value, err.offset);
      const quoted = src.isQuoted(path) ? 1 : 0;
      out.push({
        severity: 'error',
        line: at.line + inner.line - 1,
        col: inner.line === 1 ? at.col + quoted + inner.col - 1 : inner.col,
        message: `${formatPath(path)}: template error: ${err.message}`,
        path: formatPath(path),
      });
    }
    return;
  }
  if (Array.isArray(value)) value.forEach((v, i) => checkTemplates(v, [...path, i], src, out, depth + 1));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) checkTemplates(v, [...path, k], src, out, depth + 1);
}
