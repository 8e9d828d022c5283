import { describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { documentedRoutes, listRoutes, openApiDocument } from '../api/openapi.js';
import { createAjv } from '../dsl/ajv.js';
import { useApi, singleTenant } from './api-helpers.js';
import type { Harness } from './helpers.js';

describe('OpenAPI document', () => {
  let h: Harness;
  let base = '';
  useApi(singleTenant('oa', 'oa-key', 'oa', ['viewer']), (harness, b) => {
    h = harness;
    base = b;
  });

  it('lists exactly the routes express serves, with the role each one requires', () => {
    const app = createApp({ store: h.store, client: h.client, tenants: () => singleTenant('oa', 'oa-key', 'oa', ['viewer']), taskQueue: h.taskQueue });
    expect(listRoutes(app)).toEqual(documentedRoutes());
  });

  it('is served at /openapi.json as valid OpenAPI 3.1 with its component schemas compiling', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as ReturnType<typeof openApiDocument> & {
      paths: Record<string, Record<string, { responses: object }>>;
      components: { schemas: Record<string, object> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/events');
    expect(doc.paths['/v1/strategies/{id}/approve']!.post).toMatchObject({ 'x-required-role': 'approver' });
    const ajv = createAjv();
    for (const [name, schema] of Object.entries(doc.components.schemas)) expect(() => ajv.compile(schema), name).not.toThrow();
  });
});
