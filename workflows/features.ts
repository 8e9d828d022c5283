// Whether this run takes a changed code path: from the features its input carries (runs started by
// current code, no history event), else from a patch marker (histories recorded before; contracts/features.ts).
import { patched } from '@temporalio/workflow';
import type { TaskflowInput } from '../contracts/run.js';
export { childFeatures } from '../contracts/features.js';

export function uses(input: Pick<TaskflowInput, 'features'>, id: string): boolean {
  return input.features ? input.features.includes(id) : patched(id);
}
