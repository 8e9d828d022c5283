import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { parseEscalation } from '../dsl/escalation.js';
import { openStore, type Store } from '../store/db.js';
import { incidentStateQuery, incidentUpdates } from '../contracts/incident.js';
import { findTestServer } from '../cli/test-runner.js';
import { ALL_SEARCH_ATTRIBUTES } from '../contracts/definitions.js';
import { TEST_DATABASE_URL } from './database-url.js';
import { installRuntime } from './helpers.js';
import { startHttpTarget } from './http-target.js';

// Real SLAs (15 minutes to acknowledge, pages 5 minutes apart) on Temporal's time-skipping test server:
// the durable timers fire on skipped time, so the test costs seconds.
let env: TestWorkflowEnvironment;
let store: Store;
const pager = startHttpTarget();
beforeAll(async () => {
  installRuntime();
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: findTestServer() } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, 2])),
  });
  store = await openStore({ databaseUrl: TEST_DATABASE_URL });
});
afterAll(async () => {
  await env?.teardown();
  await store?.close();
  await (await pager).close();
});

describe('incident SLA escalation on durable timers (time-skipping)', () => {
  it('an unacknowledged high incident escalates after 15 minutes, pages each step on time, repeats, and stops paging once acknowledged', async () => {
    const hook = `${(await pager).url}/hooks`;
    const cfg = parseEscalation(`policies:
  - id: default
    ack_sla: { high: 900 }
    resolve_sla: { high: 14400 }
    steps:
      - after: 0
        notify: [{ role: oncall, channel: im }]
      - after: 300
        notify: [{ role: lead, channel: webhook }]
    repeat: 1
    repeat_interval: 600
routing:
  oncall: { im: "${hook}/oncall" }
  lead: { webhook: "${hook}/lead" }
`).config!;
    const taskQueue = `ts-incidents-${randomUUID()}`;
    const acts = createActivities({ store, escalation: () => cfg, client: env.client, taskQueue });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: inject('bundlePath') }, activities: acts });
    await worker.runUntil(async () => {
      const tenant = `ts-${randomUUID().slice(0, 8)}`;
      const { incident_id: id } = await acts.openIncident({
        tenant,
        source: 'alert',
        source_id: 'slow_remediation',
        severity: 'high',
        title: 'Remediation is slow',
        attribution: {},
      });
      const handle = env.client.workflow.getHandle(id);
      const received = async (p: string) => (await pager).received.filter((r) => r.path === `/hooks/${p}` && r.body.includes(id)).length;
      // pages are activities: give one in flight a moment of real time
      const settle = async (p: string, n: number) => {
        for (let i = 0; i < 50 && (await received(p)) < n; i++) await new Promise((r) => setTimeout(r, 100));
        return received(p);
      };
      await env.sleep(899_000);
      expect((await handle.query(incidentStateQuery)).status).toBe('open');
      await env.sleep(2_000);
      let s = await handle.query(incidentStateQuery);
      expect(s.status).toBe('escalated');
      expect(s.events.find((e) => e.kind === 'escalate')?.detail).toMatchObject({ reason: expect.stringContaining('ack SLA of 900s') });
      expect(await settle('oncall', 1)).toBe(1);
      expect(await received('lead')).toBe(0);
      await env.sleep(300_000); // step 2, 5 minutes after the escalation
      expect(await settle('lead', 1)).toBe(1);
      await env.sleep(350_000); // the repeat pass: step 1 again 10 minutes after the escalation
      expect(await settle('oncall', 2)).toBe(2);
      await handle.executeUpdate(incidentUpdates.acknowledge, { args: [{ by: 'oncall' }] });
      await env.sleep(3_600_000); // nothing more once acknowledged
      expect(await settle('oncall', 3)).toBe(2);
      expect(await received('lead')).toBe(1);
      s = await handle.query(incidentStateQuery);
      expect(s.status).toBe('acknowledged');
      expect(s.events.filter((e) => e.kind === 'paged')).toHaveLength(3);
    });
  }, 120_000);
});
