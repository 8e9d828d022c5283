// The product's workflows with `unique` as it was before issue #12 (quadratic, and not charged to
// the cost budget): only the isolation test bundles this, to crash a worker process exactly the way
// the runaway template of that issue did ("async hook stack has become corrupted" when the sandbox's
// time limit lands inside the interpreter's promise continuations).
import { FILTERS } from '../../dsl/expr/filters.js';
import { deepEqual } from '../../dsl/expr/values.js';
export * from '../../workflows/index.js';

FILTERS.unique = (v) => (v as unknown[]).filter((x, i, all) => all.findIndex((y) => deepEqual(x, y)) === i);
