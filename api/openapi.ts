import type { Express, RequestHandler } from 'express';
import { BODY_SCHEMAS } from './body-schemas.js';
import { ApiError } from './errors.js';
import { OPERATIONS, type Op } from './operations.js';

export { OPERATIONS } from './operations.js';

const errorRef = { $ref: '#/components/schemas/Error' };
const errors = (codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: String(c), content: { 'application/json': { schema: errorRef } } }]));

/** Error statuses an operation can answer with: its auth's, a body's, and what every route may say. */
function errorCodes(op: Op): number[] {
  if (op.auth === 'none') return op.path === '/readyz' ? [503] : [];
  const codes = new Set([400, 404, 405, 503]);
  if (op.auth === 'signature') [401, 403, 409, 413, 429].forEach((c) => codes.add(c));
  else if (op.auth === 'token') [409, 410, 413].forEach((c) => codes.add(c));
  else [401, 403].forEach((c) => codes.add(c));
  if (op.body) [413, 415, 422].forEach((c) => codes.add(c));
  if (op.method !== 'get') codes.add(409);
  return [...codes].sort();
}

function requestBody(op: Op) {
  if (!op.body) return undefined;
  if (op.body === 'yaml')
    return {
      required: true,
      content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: { $ref: '#/components/schemas/WorkflowSource' } } },
    };
  const ref = { $ref: `#/components/schemas/${op.body}` };
  const optional = ['NoBody', 'RunRequest', 'RetryRequest', 'IncidentAction', 'ReviewAction', 'Callback'].includes(op.body);
  return {
    required: !optional,
    content: { 'application/json': { schema: ref }, ...(op.body === 'Strategy' ? { 'application/yaml': { schema: { type: 'string' } } } : {}) },
  };
}

function operation(op: Op) {
  const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const signature = {
    name: 'X-Closeloop-Signature',
    in: 'header',
    required: true,
    schema: { type: 'string' },
    description: 't=<unix seconds>,v1=<hex HMAC-SHA256(tenant secret, "<t>.<raw body>")>',
  };
  const keyed = !['signature', 'token', 'none'].includes(op.auth);
  const body = requestBody(op);
  const ok = op.ok ?? 200;
  return {
    summary: op.summary,
    tags: [op.tag],
    ...(keyed ? { 'x-required-role': op.auth } : {}),
    ...(op.auth === 'signature' ? { parameters: [signature] } : params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    security: keyed ? [{ bearer: [] }] : [],
    responses: {
      [String(ok)]: { description: ok === 204 ? 'No content' : 'OK' },
      ...Object.fromEntries(Object.entries(op.also ?? {}).map(([status, description]) => [status, { description }])),
      ...errors(errorCodes(op)),
    },
  };
}

/** The table as `METHOD /path role body` lines, in the form listRoutes gives. */
export const documentedRoutes = () =>
  OPERATIONS.map(
    (o) =>
      `${o.method.toUpperCase()} ${o.path} ${['signature', 'token', 'none'].includes(o.auth) ? '-' : o.auth} ${o.body && o.body !== 'yaml' && o.body !== 'Strategy' && o.body !== 'EventEnvelope' ? o.body : '-'}`,
  ).sort();

/** The OpenAPI 3.1 document served at /openapi.json. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Closeloop API',
      version: '0.1.0',
      description: 'Event intake, strategies, workflows, runs, human inquiries and callbacks. Errors: {"error": {"code", "message", "details"}}.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A tenant API key; roles viewer, operator, approver, admin' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'array' } },
            },
          },
        },
        ...BODY_SCHEMAS,
        Strategy: (BODY_SCHEMAS.Strategy as { $defs: { strategy: object } }).$defs.strategy,
      },
    },
  };
}

/** `METHOD /path/{param} role` for every route an express app serves (walks nested routers); role '-' when none is required. */
export function listRoutes(app: Express): string[] {
  const out = new Set<string>();
  type Layer = {
    route?: { path: string | string[]; methods: Record<string, boolean>; stack: { handle: { requiredRole?: string; bodySchema?: string } }[] };
    handle?: { stack?: Layer[] };
  };
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const p of Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path]) {
          const role = layer.route.stack.map((h) => h.handle.requiredRole).find(Boolean) ?? '-';
          const body = layer.route.stack.map((h) => h.handle.bodySchema).find(Boolean) ?? '-';
          for (const m of Object.keys(layer.route.methods)) if (m !== '_all') out.add(`${m.toUpperCase()} ${p.replace(/:(\w+)/g, '{$1}')} ${role} ${body}`);
        }
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...out].sort();
}

const templates = OPERATIONS.map((o) => ({ method: o.method.toUpperCase(), re: new RegExp(`^${o.path.replace(/\{\w+\}/g, '[^/]+')}$`) }));

/** A path the API serves, asked with a method it does not take: 405 with the methods it does take (Allow). */
export const methodNotAllowed: RequestHandler = (req, res, next) => {
  const allowed = [...new Set(templates.filter((t) => t.re.test(req.path)).map((t) => t.method))];
  if (!allowed.length || allowed.includes(req.method) || (req.method === 'HEAD' && allowed.includes('GET'))) return next();
  res.setHeader('allow', [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].join(', '));
  next(new ApiError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; allowed: ${allowed.join(', ')}`));
};
