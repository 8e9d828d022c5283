import { ApplicationFailure, condition, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { checkSchema } from '../dsl/schema-lite.js';
import type { CoreActivities } from '../activities/types.js';
import { TaskFailure } from './actions.js';
import { inquiryRespondSignal, inquiryRespondUpdate, type InquiryResponse } from '../contracts/definitions.js';
import { FAILURE } from '../contracts/failures.js';

interface Inquiry {
  id: string;
  task: string;
  schema: Record<string, unknown> | null;
  status: 'pending' | 'responded' | 'timed_out';
  response?: unknown;
  by?: string;
}

const store = proxyActivities<CoreActivities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' } });

/** Open inquiries of a run: answered through the `inquiry.respond` update (validated) or signal. */
export class InquiryBook {
  private readonly inquiries = new Map<string, Inquiry>();

  /** Problems with an answer; empty means it would be accepted. Used by the update validator. */
  problems(r: InquiryResponse): string[] {
    if (!r || typeof r !== 'object' || typeof r.inquiry_id !== 'string') return ['the payload must be { inquiry_id, response, by }'];
    const inq = this.inquiries.get(r.inquiry_id);
    if (!inq) return [`no inquiry '${r.inquiry_id}' in this run`];
    if (inq.status !== 'pending') return [`inquiry '${r.inquiry_id}' is already ${inq.status}`];
    return checkSchema(inq.schema ?? undefined, r.response);
  }

  /**
   * Takes answers through the `inquiry.respond` update (an invalid one is refused to the caller) and
   * signal (which cannot be refused: an invalid one goes to `rejected` and the inquiry keeps waiting).
   */
  listen(rejected: (r: InquiryResponse, problems: string[]) => void): void {
    setHandler(inquiryRespondUpdate, (r) => this.accept(r), {
      validator: (r) => {
        // answered already (another API process won the race): a conflict, not a bad answer
        const inq = r && typeof r === 'object' ? this.inquiries.get(r.inquiry_id) : undefined;
        if (inq && inq.status !== 'pending')
          throw ApplicationFailure.create({ type: FAILURE.inquiryAnswered, message: `inquiry '${inq.id}' is already ${inq.status}`, nonRetryable: true });
        const problems = this.problems(r);
        if (problems.length) throw ApplicationFailure.create({ type: FAILURE.invalidInquiryResponse, message: problems.join('; '), nonRetryable: true });
      },
    });
    setHandler(inquiryRespondSignal, (r) => {
      const problems = this.problems(r);
      if (problems.length) rejected(r, problems);
      else this.accept(r);
    });
  }

  /** Applies a valid answer; returns it (the update's result). */
  accept(r: InquiryResponse): unknown {
    const problems = this.problems(r);
    if (problems.length) throw ApplicationFailure.create({ type: FAILURE.invalidInquiryResponse, message: problems.join('; '), nonRetryable: true });
    const inq = this.inquiries.get(r.inquiry_id)!;
    Object.assign(inq, { status: 'responded', response: r.response, by: r.by ?? 'unknown' });
    return r.response;
  }

  pending(): { id: string; task: string }[] {
    return [...this.inquiries.values()].filter((i) => i.status === 'pending').map(({ id, task }) => ({ id, task }));
  }

  /** core.inquiry: store it, wait durably for a valid answer or the deadline. */
  async ask(opts: {
    task: string;
    run: number;
    label: string;
    tenant: string;
    input: Record<string, unknown>;
    timeout?: number;
    record: (kind: 'inquiry.created' | 'inquiry.responded' | 'inquiry.timed_out', detail: Record<string, unknown>) => void;
    flush: () => Promise<void>;
  }): Promise<unknown> {
    const { input } = opts;
    const id = `${workflowInfo().workflowId}:${opts.task}:${opts.run}`;
    const timeout = opts.timeout ?? (typeof input.timeout === 'number' ? input.timeout : undefined);
    const schema = input.schema && typeof input.schema === 'object' ? (input.schema as Record<string, unknown>) : null;
    const assignee = input.assigned_to === undefined || input.assigned_to === null ? null : String(input.assigned_to);
    const inq: Inquiry = { id, task: opts.task, schema, status: 'pending' };
    this.inquiries.set(id, inq);
    const deadline = timeout !== undefined ? new Date(Date.now() + timeout * 1000).toISOString() : null;
    await store.recordInquiry({
      id,
      tenant: opts.tenant,
      execution_id: workflowInfo().workflowId,
      task: opts.task,
      prompt: String(input.prompt ?? `Answer inquiry for task '${opts.task}'`),
      schema,
      assigned_to: assignee,
      deadline,
    });
    opts.record('inquiry.created', { id, assigned_to: assignee, deadline });
    await opts.flush();
    setCurrentDetails(`waiting for inquiry ${id}${assignee ? ` (assigned to ${assignee})` : ''}${deadline ? `, deadline ${deadline}` : ''}`);
    const answered =
      timeout !== undefined
        ? await condition(() => inq.status === 'responded', timeout * 1000, { summary: `${opts.label}: inquiry deadline` })
        : (await condition(() => inq.status === 'responded'), true);
    setCurrentDetails('');
    if (!answered) {
      inq.status = 'timed_out';
      await store.resolveInquiry({ id, status: 'timed_out' });
      opts.record('inquiry.timed_out', { id });
      throw new TaskFailure({ type: FAILURE.timeout, message: `inquiry ${id} got no answer within ${timeout}s` }, true);
    }
    await store.resolveInquiry({ id, status: 'responded', response: inq.response, by: inq.by ?? null });
    opts.record('inquiry.responded', { id, by: inq.by, response: inq.response });
    return inq.response;
  }
}
