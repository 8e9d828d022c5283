import eventSchema from '../schemas/event.schema.json' with { type: 'json' };
import { createAjv, describeAjvError } from './ajv.js';
import type { EventEnvelope } from './strategy-match.js';

const validate = createAjv().compile(eventSchema);

export type EnvelopeCheck = { ok: true; event: EventEnvelope } | { ok: false; problems: { location: string; message: string }[] };

/** Validates a parsed event body against schemas/event.schema.json. */
export function checkEnvelope(value: unknown): EnvelopeCheck {
  if (validate(value)) return { ok: true, event: value as unknown as EventEnvelope };
  return {
    ok: false,
    problems: (validate.errors ?? []).map((e) => ({ location: `body${e.instancePath.replace(/\//g, '.')}`, message: describeAjvError(e) })),
  };
}
