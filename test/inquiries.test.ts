import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { singleTenant, useApi } from './api-helpers.js';
import { auditLog } from '../store/schema.js';
import { inquiryRespondSignal, inquiryRespondUpdate, stateQuery, TASKFLOW } from '../contracts/definitions.js';
import { compile, resultOf, runWorkflow, type Harness } from './helpers.js';

let h: Harness;
let base: string;
const tenant = `inq${randomUUID().slice(0, 8)}`;
const key = `key-${tenant}`;
const tenants = singleTenant(tenant, key, 'ops-approver', ['approver', 'viewer']);

const approval = compile(`
ref: t.approval
version: 1.0.0
tasks:
  - name: require_approval
    action: core.inquiry
    input:
      prompt: "Deploy {{ parameters.version }}?"
      assigned_to: ops.approver
      schema: { type: object, required: [approved], properties: { approved: { type: boolean }, note: { type: string } } }
    timeout: 3600
    next:
      - when: "{{ succeeded() and result().approved }}"
        do: deploy
      - when: "{{ succeeded() and not result().approved }}"
        do: cancelled
  - name: deploy
    action: core.echo
    input: { message: "deploying, approved by {{ task.require_approval.result.note }}" }
  - name: cancelled
    action: core.noop
`);

async function api(method: string, path: string, json?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

useApi(tenants, (harness, url) => {
  h = harness;
  base = url;
});

describe('human inquiries', () => {
  it('waits durably; invalid answers are refused (API 422, update rejected, signal ignored); a valid one resumes the run', async () => {
    await h.withWorker(async () => {
      const id = `run:${tenant}:${randomUUID()}`;
      const handle = await h.client.workflow.start(TASKFLOW, {
        taskQueue: h.taskQueue,
        workflowId: id,
        args: [{ workflow: approval, parameters: { version: '2.0' }, tenant }],
      });
      let pending: any[] = [];
      while (!pending.length) {
        pending = (await api('GET', '/v1/inquiries?status=pending')).body.inquiries.filter((i: any) => i.execution_id === id);
        await new Promise((r) => setTimeout(r, 100));
      }
      const inq = pending[0];
      expect(inq).toMatchObject({
        id: `${id}:require_approval:1`,
        task: 'require_approval',
        prompt: 'Deploy 2.0?',
        assigned_to: 'ops.approver',
        status: 'pending',
      });

      const bad = await api('POST', `/v1/inquiries/${encodeURIComponent(inq.id)}/respond`, { response: { approved: 'yes' } });
      expect(bad.status).toBe(422);
      expect(bad.body.error.details).toEqual([{ location: 'response.approved', message: 'must be boolean' }]);
      await expect(handle.executeUpdate(inquiryRespondUpdate, { args: [{ inquiry_id: inq.id, response: {}, by: 'cli' }] })).rejects.toThrow(
        WorkflowUpdateFailedError,
      );
      await handle.signal(inquiryRespondSignal, { inquiry_id: inq.id, response: { approved: 1 }, by: 'cli' });
      expect((await handle.query(stateQuery)).status).toBe('running');

      const ok = await api('POST', `/v1/inquiries/${encodeURIComponent(inq.id)}/respond`, { response: { approved: true, note: 'ada' } });
      expect(ok).toMatchObject({ status: 200, body: { status: 'responded', response: { approved: true, note: 'ada' } } });
      const s = await resultOf(handle);
      expect(s.status).toBe('succeeded');
      expect(s.tasks.map((t) => `${t.name}:${t.status}`)).toEqual(['require_approval:succeeded', 'deploy:succeeded']);
      expect(s.tasks[1]?.result).toEqual({ message: 'deploying, approved by ada' });
      const after = (await api('GET', '/v1/inquiries')).body.inquiries.find((i: any) => i.id === inq.id);
      expect(after).toMatchObject({ status: 'responded', responded_by: 'ops-approver', response: { approved: true, note: 'ada' } });
      expect((await api('POST', `/v1/inquiries/${encodeURIComponent(inq.id)}/respond`, { response: { approved: true } })).status).toBe(409);
      const kinds = (await h.store.db.select().from(auditLog).where(eq(auditLog.executionId, id))).map((r) => r.kind);
      expect(kinds).toEqual(expect.arrayContaining(['inquiry.created', 'inquiry.rejected', 'inquiry.responded']));
    });
  });

  it('an inquiry without an answer by its deadline ends timed_out and fires on_timeout', async () => {
    const wf = compile(`
ref: t.deadline
version: 1.0.0
tasks:
  - name: ask
    action: core.inquiry
    input: { prompt: "anyone?" }
    timeout: 1
    on_timeout: escalate
  - name: escalate
    action: core.noop
`);
    const s = await h.withWorker(() => runWorkflow(h, wf, {}, { tenant }));
    expect(s.tasks.map((t) => `${t.name}:${t.status}`)).toEqual(['ask:timed_out', 'escalate:succeeded']);
    const inq = (await api('GET', '/v1/inquiries?status=timed_out')).body.inquiries.find((i: any) => i.execution_id === s.id);
    expect(inq?.status).toBe('timed_out');
  });
});
