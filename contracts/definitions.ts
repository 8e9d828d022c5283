// Signal, query and update names: shared by workflows/ and api/ (public names, see interfaces.md).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { RunSummary } from './run.js';

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Payload of `inquiry.respond` (update and signal). */
export interface InquiryResponse {
  inquiry_id: string;
  response: unknown;
  by?: string;
}
export const inquiryRespondUpdate = defineUpdate<unknown, [InquiryResponse]>('inquiry.respond');
export const inquiryRespondSignal = defineSignal<[InquiryResponse]>('inquiry.respond');
/** Asynchronous plugin results and delivery receipts: `{ token, result }`. */
export const callbackSignal = defineSignal<[{ token: string; result: unknown }]>('callback');
export const stateQuery = defineQuery<RunSummary>('state');
export const contextQuery = defineQuery<Record<string, unknown>>('context');
export const graphQuery = defineQuery<{ tasks: Record<string, string> }>('graph');

export const TASK_QUEUE = 'closeloop';
export const TASKFLOW = 'taskflow';

export const SA = {
  tenant: defineSearchAttributeKey('CloseloopTenant', SearchAttributeType.KEYWORD),
  workflow: defineSearchAttributeKey('CloseloopWorkflow', SearchAttributeType.KEYWORD),
  strategy: defineSearchAttributeKey('CloseloopStrategy', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('CloseloopStatus', SearchAttributeType.KEYWORD),
  closure: defineSearchAttributeKey('CloseloopClosure', SearchAttributeType.KEYWORD),
};
export const ALL_SEARCH_ATTRIBUTES = Object.values(SA);

export const MANUAL_REVIEW = 'manualReview';
