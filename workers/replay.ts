// Replaying histories against the current workflow code (the `closeloop replay` command, the replay
// tests and the replay benchmark all go through here, so what is measured is what is checked).
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import type { Logger } from '@temporalio/common';
import type { CompiledWorkerOptions } from '@temporalio/worker/lib/worker-options.js';
import type { WorkflowBundleWithSourceMapAndFilename } from '@temporalio/worker/lib/workflow/workflow-worker-thread/input.js';
import type { WorkflowCreator } from '@temporalio/worker/lib/workflow/interface.js';
// the SDK's process-wide stack-trace hooks (no public switch; see docs/decisions.md "Replay speed")
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared.js';

/**
 * A replay worker without two costs that only matter to live workers:
 * - the deadlock watchdog: replay already runs with a 49-day execution limit, yet Node starts a
 *   watchdog thread for every call into the workflow sandbox (several per activation);
 * - the promise hook that records a stack trace for every workflow promise, which only serves the
 *   `__stack_trace` query (the Web UI's "Stack Trace" tab) of a live run.
 * Determinism is checked exactly as before: same sandbox, same bundle, same commands.
 */
class ReplayWorker extends Worker {
  protected static override async createWorkflowCreator(bundle: WorkflowBundleWithSourceMapAndFilename, options: CompiledWorkerOptions, logger: Logger): Promise<WorkflowCreator> {
    // marks the hooks as set so the SDK does not set them (a replay process runs no live workflow)
    globalHandlers.installed = true;
    return super.createWorkflowCreator(bundle, { ...options, isolateExecutionTimeoutMs: undefined as unknown as number }, logger);
  }
}

/** Replays one history; throws DeterminismViolationError (or ReplayError) as Worker.runReplayHistory does. */
export function replayHistory(options: ReplayWorkerOptions, history: History | unknown, workflowId?: string): Promise<void> {
  return ReplayWorker.runReplayHistory(options, history as History, workflowId);
}
