import actionSchema from '../schemas/action.schema.json' with { type: 'json' };
import { createAjv, describeAjvError, instancePathParts } from './ajv.js';
import { formatPath, parseYamlSource } from './source.js';
import type { ActionDef, Diagnostic } from './types.js';

export type { ActionDef } from './types.js';

const validate = createAjv().compile(actionSchema);

export function parseActionDef(text: string): { action?: ActionDef; diagnostics: Diagnostic[] } {
  const src = parseYamlSource(text);
  const diagnostics: Diagnostic[] = src.syntaxErrors.map((e) => ({ severity: 'error', ...e, message: `YAML: ${e.message}`, path: '' }));
  if (diagnostics.length) return { diagnostics };
  if (!validate(src.value)) {
    for (const e of validate.errors ?? []) {
      if (e.keyword === 'if') continue;
      const parts = instancePathParts(e);
      const { line, col } = src.positionOf(parts);
      diagnostics.push({ severity: 'error', line, col, message: describeAjvError(e, formatPath(parts)), path: formatPath(parts) });
    }
    return { diagnostics };
  }
  const action = src.value as unknown as ActionDef;
  return { action, diagnostics };
}
