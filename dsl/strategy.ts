import strategySchema from '../schemas/strategy.schema.json' with { type: 'json' };
import { createAjv } from './ajv.js';
import { errorAt, parseConfigYaml } from './config-file.js';
import { formatPath, type PathPart } from './source.js';
import { checkTemplates } from './templates-check.js';
import type { Diagnostic } from './types.js';

export type StrategyStatus = 'draft' | 'approved' | 'active' | 'disabled';

/** One version of a strategy (config.md "Strategies"), defaults filled in. */
export interface Strategy {
  id: string;
  version: number;
  status: StrategyStatus;
  description?: string;
  on: string;
  tenants: string[];
  when: string[];
  priority: number;
  weight: number;
  workflow: string;
  parameters: Record<string, unknown>;
  closure?: string;
  permissions?: string[];
}

const ajv = createAjv();
ajv.addSchema(strategySchema);
const validateFile = ajv.getSchema(strategySchema.$id)!;
const validateOne = ajv.getSchema(`${strategySchema.$id}#/$defs/strategy`)!;

export function withDefaults(raw: Record<string, unknown>): Strategy {
  const s = raw as Partial<Strategy> & { id: string; on: string; workflow: string };
  return {
    ...s,
    version: s.version ?? 1,
    status: s.status ?? 'draft',
    tenants: s.tenants ?? ['*'],
    when: s.when ?? [],
    priority: s.priority ?? 0,
    weight: s.weight ?? 50,
    parameters: s.parameters ?? {},
  } as Strategy;
}

/** Parses a strategy file (`strategies: [...]`), or with `single` one strategy object; every problem has a position. */
export function parseStrategies(text: string, opts: { single?: boolean } = {}): { strategies: Strategy[]; diagnostics: Diagnostic[] } {
  const { value, diagnostics, src } = parseConfigYaml<unknown>(text, opts.single ? validateOne : validateFile);
  if (!value) return { strategies: [], diagnostics };
  const list = opts.single ? [value] : (value as { strategies: unknown[] }).strategies;
  const base: PathPart[] = opts.single ? [] : ['strategies'];
  const seen = new Map<string, number>();
  list.forEach((raw: unknown, i: number) => {
    const path = opts.single ? base : [...base, i];
    checkTemplates((raw as Record<string, unknown>).when, [...path, 'when'], src, diagnostics);
    checkTemplates((raw as Record<string, unknown>).parameters, [...path, 'parameters'], src, diagnostics);
    ((raw as { when?: string[] }).when ?? []).forEach((w, j) => {
      if (w.includes('{{')) return;
      diagnostics.push(errorAt(src, [...path, 'when', j], `a condition must be a template, e.g. "{{ event.payload.status == 'ok' }}"`));
    });
    const s = withDefaults(raw as Record<string, unknown>);
    const key = `${s.id}@${s.version}`;
    if (seen.has(key)) diagnostics.push(errorAt(src, [...path, 'id'], `strategy '${key}' is defined twice (also at ${formatPath([...base, seen.get(key)!])})`));
    seen.set(key, i);
  });
  if (diagnostics.some((d) => d.severity === 'error')) return { strategies: [], diagnostics };
  return { strategies: list.map((raw) => withDefaults(raw as Record<string, unknown>)), diagnostics };
}
