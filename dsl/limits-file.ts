// config/limits.yaml, checked against schemas/limits.schema.json.
import limitsSchema from '../schemas/limits.schema.json' with { type: 'json' };
import { createAjv } from './ajv.js';
import { parseConfigYaml } from './config-file.js';
import { DEFAULT_WORKFLOW_LIMITS, type Diagnostic, type Limits } from './types.js';

const validateLimitsFile = createAjv().compile(limitsSchema);

/** The operator's limits (absent keys keep the defaults); null with diagnostics when the file is invalid. */
export function parseLimits(text: string): { limits: Limits | null; diagnostics: Diagnostic[] } {
  const { value, diagnostics } = parseConfigYaml<{ limits?: Partial<Limits> }>(text, validateLimitsFile);
  return { limits: value ? { ...DEFAULT_WORKFLOW_LIMITS, ...(value.limits ?? {}) } : null, diagnostics };
}
