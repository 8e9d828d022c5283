export { ExpressionError, lineColOf } from './errors.js';
export { DEFAULT_LIMITS, evaluateNode, type Limits, type Scope } from './evaluate.js';
export { FILTER_NAMES } from './filters.js';
export { parseExpression } from './parser.js';
export { describeError, isTemplate, parseTemplate, render, renderDeep, renderTemplate, type Template } from './template.js';
export { HostFunction, UNDEFINED, toPlain, truthy } from './values.js';
