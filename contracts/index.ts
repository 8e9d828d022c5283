// What crosses a boundary (architecture.md): imported by workflows/, activities/, api/ and the conductor.
export * from './run.js';
export * from './conductor.js';
export * from './audit.js';
