// Issue #12 item 3: bodies are read after authentication and checked against the schemas the
// OpenAPI document publishes; wrong methods get 405 with Allow; wrong media types 415.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../api/openapi.js';
import { singleTenant, useApi } from './api-helpers.js';

const T = `edge${randomUUID().slice(0, 8)}`;
const KEY = `key-${T}`;
let base = '';
useApi(singleTenant(T, KEY, 'admin', ['admin']), (_h, b) => {
  base = b;
});

async function send(method: string, path: string, opts: { body?: string; type?: string; key?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (opts.key !== null) headers.authorization = `Bearer ${opts.key ?? KEY}`;
  if (opts.type) headers['content-type'] = opts.type;
  const res = await fetch(`${base}${path}`, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as Record<string, any> };
}
const json = (v: unknown) => ({ body: JSON.stringify(v), type: 'application/json' });

describe('the HTTP edge', () => {
  it('checks bodies against their schema and names every problem; unknown fields too', async () => {
    const r = await send('PUT', '/v1/kv/some.key', json({ secret: 'yes', colour: 'red' }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_body');
    expect(r.body.error.details.map((d: { location: string }) => d.location).sort()).toEqual(['body', 'body.colour', 'body.secret']);
    const run = await send('POST', '/v1/workflows/x.y/executions', json({ parameters: 'not an object', idempotency_key: 'bad key!' }));
    expect(run.status).toBe(400);
    expect(run.body.error.details.map((d: { location: string }) => d.location).sort()).toEqual(['body.idempotency_key', 'body.parameters']);
    const answer = await send('POST', '/v1/inquiries/whatever/respond', json({ answer: true }));
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toContainEqual(expect.objectContaining({ location: 'body', message: "body: missing required field 'response'" }));
  });

  it('refuses a body in a media type the route does not take with 415, not 500', async () => {
    const r = await send('PUT', '/v1/kv/some.key', { body: 'plain text', type: 'text/plain' });
    expect(r.status).toBe(415);
    expect(r.body.error.code).toBe('unsupported_media_type');
  });

  it('reads no body before the caller is known: a large body with a wrong key is a 401, not a 413', async () => {
    const big = JSON.stringify({ value: 'x'.repeat(2 * 1024 * 1024) });
    expect((await send('PUT', '/v1/kv/k', { ...json(null), body: big, key: 'wrong' })).status).toBe(401);
    expect((await send('PUT', '/v1/kv/k', { ...json(null), body: big })).status).toBe(413);
    // a callback token is checked first too
    expect((await send('POST', `/v1/callbacks/${randomUUID()}`, { ...json(null), body: big, key: null })).status).toBe(404);
  });

  it('answers a known path with a method it does not take with 405 and Allow', async () => {
    const r = await send('PATCH', '/v1/kv/some.key');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('PUT, DELETE');
    const e = await send('DELETE', '/v1/executions/run:x:y');
    expect(e.status).toBe(405);
    expect(e.headers.get('allow')).toBe('GET, HEAD');
    expect((await send('GET', '/v1/no-such-thing')).status).toBe(404);
  });

  it('publishes required fields, every status and the same schemas it checks', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };
    expect(doc.components.schemas.KvValue.required).toEqual(['value']);
    expect(doc.components.schemas.WorkflowSource.required).toEqual(['yaml']);
    expect(doc.components.schemas.StrategyVersion.required).toEqual(['version']);
    expect(Object.keys(doc.paths['/v1/kv/{key}']!.delete.responses)).toContain('204');
    expect(Object.keys(doc.paths['/v1/kv/{key}']!.put.responses)).toEqual(expect.arrayContaining(['204', '400', '401', '403', '405', '415']));
    expect(doc.paths['/v1/kv/{key}']!.put.requestBody).toMatchObject({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/KvValue' } } },
    });
  });
});
