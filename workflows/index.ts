export { taskflow } from './taskflow.js';
