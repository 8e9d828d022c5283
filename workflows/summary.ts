export * from '../contracts/run.js';
