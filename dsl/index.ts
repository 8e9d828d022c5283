export * from './types.js';
export { validateWorkflow, formatDiagnostic, type ValidateOptions, type ValidationResult } from './validate.js';
export { validateParameters, ParameterError, normaliseParameters } from './parameters.js';
export { BUILTIN_ACTIONS, isBuiltin, isHttpAction } from './builtins.js';
export { toMermaid, toDot } from './graph-render.js';
