// Every HTTP body the API takes, as JSON Schema: checked at the edge (after authentication) by
// `body(name)`, and published in /openapi.json from the same objects (architecture.md).
import type { RequestHandler } from 'express';
import type { ErrorObject } from 'ajv';
import eventSchema from '../schemas/event.schema.json' with { type: 'json' };
import strategySchema from '../schemas/strategy.schema.json' with { type: 'json' };
import { createAjv, describeAjvError } from '../dsl/ajv.js';
import { findTextProblem } from '../dsl/text.js';
import { ApiError } from './errors.js';

const KEY = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,200}$', description: "1-200 characters of letters, digits, '_', '.', ':' or '-'" };
const TEXT = (max: number) => ({ type: 'string', maxLength: max });
const strip = <T extends Record<string, unknown>>(s: T) => {
  const { $schema: _s, $id: _i, ...rest } = s;
  return rest;
};

export const BODY_SCHEMAS = {
  RunRequest: {
    type: 'object',
    additionalProperties: false,
    properties: { parameters: { type: 'object', description: "the workflow's parameters" }, idempotency_key: KEY },
  },
  RetryRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      from: {
        type: 'array',
        items: { type: 'string', minLength: 1, maxLength: 200 },
        maxItems: 1000,
        description: 'tasks to start from (default: the failed ones)',
      },
      parameters: { type: 'object', description: 'parameters for the new run (validated again)' },
      items: { enum: ['failed'], description: 're-run only the failed items of a with_items task' },
    },
  },
  NoBody: { type: 'object', additionalProperties: false, maxProperties: 0, description: 'no body (or {})' },
  InquiryAnswer: {
    type: 'object',
    required: ['response'],
    additionalProperties: false,
    properties: { response: { description: "the answer, checked against the inquiry's schema (422 when it does not match)" } },
  },
  KvValue: {
    type: 'object',
    required: ['value'],
    additionalProperties: false,
    properties: {
      value: { type: ['string', 'number', 'boolean', 'object', 'array'], description: 'any JSON value but null (DELETE the key to remove it)' },
      secret: { type: 'boolean' },
    },
  },
  ReviewAction: { type: 'object', additionalProperties: false, properties: { note: TEXT(10_000) }, description: 'an optional note' },
  IncidentAction: {
    type: 'object',
    additionalProperties: false,
    properties: { root_cause: TEXT(10_000), note: TEXT(10_000), reason: TEXT(2000) },
    description: 'resolve needs root_cause, note needs note',
  },
  Trigger: {
    type: 'object',
    required: ['workflow'],
    additionalProperties: false,
    properties: {
      workflow: { type: 'string', minLength: 1, maxLength: 300 },
      parameters: { type: 'object' },
      task_result: {},
      policies: { type: 'object', additionalProperties: false, properties: { permissions: { type: 'array', items: { type: 'string' } } } },
      tenant: { type: 'string' },
      idempotency_key: KEY,
    },
  },
  WorkflowSource: {
    type: 'object',
    required: ['yaml'],
    additionalProperties: false,
    properties: { yaml: { type: 'string', minLength: 1, description: 'the workflow file' } },
  },
  StrategyVersion: {
    type: 'object',
    required: ['version'],
    additionalProperties: false,
    properties: { version: { type: 'integer', minimum: 1, maximum: 2147483647 } },
  },
  Callback: {
    type: 'object',
    additionalProperties: true,
    properties: {
      status: { type: 'string', maxLength: 100 },
      result: {},
      error: { type: 'object', properties: { message: { type: 'string' }, type: { type: 'string' } } },
    },
    description: "a plugin's result ({status, result | error}) or a delivery receipt ({status, ...})",
  },
  EventEnvelope: strip(eventSchema),
  Strategy: strip(strategySchema),
} as const;

export type BodyName = keyof typeof BODY_SCHEMAS;

const ajv = createAjv();
const validators = new Map(Object.entries(BODY_SCHEMAS).map(([k, s]) => [k, ajv.compile(s)]));

const where = (e: ErrorObject) => {
  const path = e.instancePath.replace(/\//g, '.');
  return e.keyword === 'additionalProperties' ? `body${path}.${(e.params as { additionalProperty: string }).additionalProperty}` : `body${path}`;
};

const locate = (path: string) => `body${path ? (path.startsWith('[') ? '' : '.') + path : ''}`;

/** A body taken as YAML or as free JSON (workflows, strategies) still refuses text the database cannot hold: 400. */
export function refuseUnstorable(value: unknown): void {
  const text = findTextProblem(value);
  if (text)
    throw new ApiError(400, 'invalid_body', `the request body ${text.path ? `at ${locate(text.path)} ` : ''}${text.message}`, [
      { location: locate(text.path), message: text.message },
    ]);
}

/** Problems with a body, nested-depth and text checks first (no recursive walk meets a hostile body). */
export function checkBody(name: BodyName, body: unknown): { location: string; message: string }[] {
  const text = findTextProblem(body);
  if (text) return [{ location: locate(text.path), message: text.message }];
  const validate = validators.get(name)!;
  return validate(body) ? [] : (validate.errors ?? []).map((e) => ({ location: where(e), message: describeAjvError(e, where(e).slice(5) || 'body') }));
}

/** A JSON body must match the named schema (a missing body counts as `{}`); 400 with every problem otherwise. */
export function body(name: BodyName): RequestHandler {
  const guard: RequestHandler & { bodySchema?: BodyName } = (req, _res, next) => {
    if (req.body === undefined) req.body = {};
    if (typeof req.body === 'string' && name !== 'WorkflowSource')
      return next(new ApiError(415, 'unsupported_media_type', 'send JSON (Content-Type: application/json)'));
    const problems = typeof req.body === 'string' ? [] : checkBody(name, req.body);
    next(problems.length ? new ApiError(400, 'invalid_body', `the request body does not match ${name}: ${problems[0]!.message}`, problems) : undefined);
  };
  guard.bodySchema = name;
  return guard;
}
