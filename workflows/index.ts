export { taskflow } from './taskflow.js';
export { manualReview } from './manual-review.js';
export { closure } from './closure.js';
export { incident } from './incident.js';
export { alerts } from './alerts.js';
