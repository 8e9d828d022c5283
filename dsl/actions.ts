import actionSchema from '../schemas/action.schema.json' with { type: 'json' };
import { createAjv, describeAjvError, instancePathParts } from './ajv.js';
import { formatPath, parseYamlSource } from './source.js';
import type { Diagnostic } from './types.js';

/** A pack action (config/packs/<pack>/actions/*.yaml), pinned into a run's input when it starts. */
export interface ActionDef {
  ref: string;
  description?: string;
  runner: 'http' | 'plugin';
  plugin?: string;
  operation?: string;
  mode?: 'sync' | 'async';
  callback_timeout?: number;
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: unknown;
  expected_status?: number | number[];
  timeout?: number;
  parameters?: Record<string, unknown>;
  output?: Record<string, unknown>;
}

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
