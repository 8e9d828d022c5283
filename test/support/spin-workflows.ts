// The product's workflows with `unique` as it was before issue #12 (quadratic, and not charged to
// the cost budget): only the isolation test bundles this, to hold a worker's workflow thread for
// seconds as the runaway template of that issue did (then it crashed Node: "async hook stack has
// become corrupted" when the sandbox's time limit landed in a promise continuation; now the
// supervisor's workflow-task limit stops the process first).
import { FILTERS } from '../../dsl/expr/filters.js';
import { deepEqual } from '../../dsl/expr/values.js';
export * from '../../workflows/index.js';

FILTERS.unique = (v) => (v as unknown[]).filter((x, i, all) => all.findIndex((y) => deepEqual(x, y)) === i);
