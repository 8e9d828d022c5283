// What crosses a boundary (architecture.md): imported by workflows/, activities/, api/ and the conductor.
export * from './run.js';
export * from './audit.js';
export * from './activity-options.js';
export * from './failures.js';
export * from './config.js';
export * from './activities.js';
export * from './features.js';
