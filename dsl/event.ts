import eventSchema from '../schemas/event.schema.json' with { type: 'json' };
import { createAjv, describeAjvError } from './ajv.js';
import type { EventEnvelope } from './strategy-match.js';
import { findTextProblem } from './text.js';

const validate = createAjv().compile(eventSchema);

export type EnvelopeCheck = { ok: true; event: EventEnvelope } | { ok: false; problems: { location: string; message: string }[] };

/** Validates a parsed event body against schemas/event.schema.json. */
export function checkEnvelope(value: unknown): EnvelopeCheck {
  // before the schema's recursive walk: hostile nesting, and text the database cannot hold
  const problem = findTextProblem(value);
  if (problem)
    return {
      ok: false,
      problems: [{ location: `body${problem.path ? (problem.path.startsWith('[') ? '' : '.') + problem.path : ''}`, message: problem.message }],
    };
  if (validate(value)) return { ok: true, event: value as unknown as EventEnvelope };
  return {
    ok: false,
    problems: (validate.errors ?? []).map((e) => ({ location: `body${e.instancePath.replace(/\//g, '.')}`, message: describeAjvError(e) })),
  };
}
