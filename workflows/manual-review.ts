import { proxyActivities } from '@temporalio/workflow';
import type { CoreActivities, ManualReviewInput, ManualReviewDelivery } from '../activities/types.js';

/**
 * Delivers one manual-review item to the ops endpoint, retrying until it is accepted
 * (workflow id `review:<tenant>:<key>`, so an item is delivered once).
 */
export async function manualReview(input: ManualReviewInput): Promise<ManualReviewDelivery> {
  const { deliverManualReview } = proxyActivities<CoreActivities>({
    summary: `manual review (${input.reason}) → ops`,
    startToCloseTimeout: '45s',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5m' },
  });
  return deliverManualReview(input);
}
