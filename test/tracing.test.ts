import { Client, Connection } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import { startRun } from '../api/start-run.js';
import { openStore } from '../store/db.js';
import { installTracing } from '../workers/tracing.js';
import { createWorker } from '../workers/worker.js';
import { TEST_DATABASE_URL } from './database-url.js';
import { compile, installRuntime, resultOf } from './helpers.js';
import { startHttpTarget } from './http-target.js';

describe('traces: the event trace id flows through the run to HTTP calls and out over OTLP', () => {
  it('continues the trace from the client through the workflow and activity to traceparent, and exports the spans', async () => {
    installRuntime();
    const collector = await startHttpTarget(); // a real OTLP/HTTP receiver on loopback
    const service = await startHttpTarget(); // the system the workflow calls
    const tracing = installTracing(collector.url)!;
    const address = inject('temporalAddress');
    const connection = await Connection.connect({ address });
    const client = new Client({ connection, interceptors: { workflow: tracing.clientInterceptors } });
    const store = await openStore({ databaseUrl: TEST_DATABASE_URL });
    const taskQueue = `tracing-${Date.now()}`;
    const { worker, connection: native } = await createWorker({ address, namespace: 'default', taskQueue, deps: { store }, tracing });
    const traceId = 'c0ffee00c0ffee00c0ffee00c0ffee01';
    try {
      const wf = compile(
        `ref: t.trace\nversion: 1.0.0\ntasks:\n  - name: call\n    action: core.http\n    input: { url: "${service.url}/hook", method: POST, body: { a: 1 } }\n`,
      );
      const started = await startRun(client, { workflow: wf, parameters: {}, tenant: 'tracing', taskQueue, traceId });
      const summary = await worker.runUntil(() => resultOf(client.workflow.getHandle(started.execution_id)));
      expect(summary.status).toBe('succeeded');
      const traceparent = String(service.received[0]!.headers.traceparent);
      // the real activity span, in the event's trace (not the synthetic parent used without tracing)
      expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(traceparent.split('-')[2]).not.toBe('0000000000000001');
      await tracing.shutdown(); // flushes the batch processor
      const bodies = collector.received.filter((r) => r.path === '/v1/traces').map((r) => r.body);
      const spans = bodies.flatMap((b) =>
        (JSON.parse(b) as { resourceSpans: { scopeSpans: { spans: { traceId: string; name: string }[] }[] }[] }).resourceSpans.flatMap((rs) =>
          rs.scopeSpans.flatMap((ss) => ss.spans),
        ),
      );
      const names = spans.filter((s) => s.traceId === traceId).map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['StartWorkflow:taskflow', 'RunWorkflow:taskflow', 'StartActivity:httpRequest', 'RunActivity:httpRequest']));
    } finally {
      await native.close();
      await connection.close();
      await store.close();
      await collector.close();
      await service.close();
    }
  }, 60_000);
});
