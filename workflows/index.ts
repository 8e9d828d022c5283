export { taskflow } from './taskflow.js';
export { manualReview } from './manual-review.js';
export { closure } from './closure/closure.js';
export { incident } from './incident/incident.js';
export { alerts } from './alerts.js';
