export { taskflow } from './taskflow.js';
export { manualReview } from './manual-review.js';
