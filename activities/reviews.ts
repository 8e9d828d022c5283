import { ApplicationFailure } from '@temporalio/activity';
import { eq, sql } from 'drizzle-orm';
import type { Store } from '../store/db.js';
import { manualReviews } from '../store/schema.js';
import type { ManualReviewDelivery, ManualReviewInput } from './types.js';

export interface Endpoints {
  /** `POST /ops/manual-review` of the Ops Reliability Center; unset = items stay in the database only. */
  manualReview?: string;
  /** `POST /audit/agent-closure-report`: where delivery reports go; unset = the database only. */
  auditReport?: string;
  /** Outgoing mail for core.notify email. */
  smtp?: { host: string; port: number; secure?: boolean; from: string; user?: string; pass?: string };
}

/** Posts a manual-review item to the ops endpoint; a refusal or outage is retried by the workflow. */
export function reviewActivities(store: Store, endpoints: () => Endpoints) {
  return {
    async deliverManualReview(input: ManualReviewInput): Promise<ManualReviewDelivery> {
      const url = endpoints().manualReview;
      if (!url) return { delivered: false, note: 'no manual_review endpoint configured (config/agent/endpoints.yaml)' };
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': input.id },
          body: JSON.stringify({ id: input.id, tenant: input.tenant, reason: input.reason, detail: input.detail }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        throw ApplicationFailure.retryable(
          `POST ${url}: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`,
          'OpsEndpointUnavailable',
        );
      }
      await res.body?.cancel();
      if (!res.ok) throw ApplicationFailure.retryable(`POST ${url}: HTTP ${res.status}`, 'OpsEndpointRefused');
      await store.db
        .update(manualReviews)
        .set({ notifiedAt: sql`now()` })
        .where(eq(manualReviews.id, input.id));
      return { delivered: true, status: res.status };
    },
  };
}
