// Replaying histories against the current workflow code (the `closeloop replay` command, the replay
// tests and the replay benchmark all go through here, so what is measured is what is checked).
import { UnexpectedError, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import type { Logger } from '@temporalio/common';
import { encodeErrorToFailure } from '@temporalio/common/lib/internal-non-workflow/index.js';
import proto from '@temporalio/proto'; // CommonJS: its namespaces are properties of the default export
import type { CompiledWorkerOptions } from '@temporalio/worker/lib/worker-options.js';
import type { WorkflowBundleWithSourceMapAndFilename } from '@temporalio/worker/lib/workflow/workflow-worker-thread/input.js';
import type { WorkflowCreator } from '@temporalio/worker/lib/workflow/interface.js';
// the SDK's process-wide stack-trace hooks (no public switch; see docs/decisions.md "Replay speed")
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared.js';

type HandleActivation = Worker['handleActivation'];
const Completion = proto.coresdk.workflow_completion.WorkflowActivationCompletion;

/**
 * A replay worker without costs that only matter to live workers:
 * - the deadlock watchdog: replay already runs with a 49-day execution limit, yet Node starts a
 *   watchdog thread for every call into the workflow sandbox (several per activation);
 * - the promise hook that records a stack trace for every workflow promise, which only serves the
 *   `__stack_trace` query (the Web UI's "Stack Trace" tab) of a live run;
 * - three payload walks per activation (external-storage references in, codec decode in, codec
 *   encode out) that leave every payload as it is when no codec and no external storage is set,
 *   as for every Closeloop worker (what that saves: `npx tsx bench/profile-replay.ts --compare-walks`).
 * Determinism is checked exactly as before: same sandbox, same bundle, same commands.
 */
class ReplayWorker extends Worker {
  protected readonly skipsPayloadWalks: boolean = true;

  protected static override async createWorkflowCreator(
    bundle: WorkflowBundleWithSourceMapAndFilename,
    options: CompiledWorkerOptions,
    logger: Logger,
  ): Promise<WorkflowCreator> {
    // marks the hooks as set so the SDK does not set them (a replay process runs no live workflow)
    globalHandlers.installed = true;
    return super.createWorkflowCreator(bundle, { ...options, isolateExecutionTimeoutMs: undefined as unknown as number }, logger);
  }

  protected override async handleActivation(...args: Parameters<HandleActivation>): ReturnType<HandleActivation> {
    const [workflow, { activation, synthetic }] = args;
    const { payloadCodecs, externalStorage } = this.options.loadedDataConverter;
    // the first activation (which creates the workflow), evictions and anything with codecs take the SDK's path
    if (
      !this.skipsPayloadWalks ||
      !workflow ||
      synthetic ||
      payloadCodecs.length > 0 ||
      externalStorage ||
      !activation.jobs.length ||
      activation.jobs.some((j) => j.removeFromCache)
    )
      return super.handleActivation(...args);
    let fatal = false;
    try {
      const completion = Completion.encodeDelimited(Completion.fromObject(await workflow.workflow.activate(activation))).finish();
      return { state: workflow, output: { close: false, completion } };
    } catch (error) {
      // as the SDK: an unexpected error stops the worker; anything else fails the workflow task
      fatal = error instanceof UnexpectedError;
      if (fatal) this.unexpectedErrorSubject.error(error);
      this.logger.error('Failed to process Workflow Activation', { runId: activation.runId, ...workflow.logAttributes, error, workflowExists: true });
      const failure = await encodeErrorToFailure(this.options.loadedDataConverter, error);
      return { state: workflow, output: { close: false, completion: Completion.encodeDelimited({ runId: activation.runId, failed: { failure } }).finish() } };
    } finally {
      if (!fatal) await this.processSinkCalls(await workflow.workflow.getAndResetSinkCalls(), workflow.logAttributes);
    }
  }
}

/** The same replayer with the SDK's payload walks kept: only to measure what skipping them saves. */
class ReplayWorkerWithWalks extends ReplayWorker {
  protected override readonly skipsPayloadWalks: boolean = false;
}

/** Replays one history; throws DeterminismViolationError (or ReplayError) as Worker.runReplayHistory does. */
export function replayHistory(
  options: ReplayWorkerOptions,
  history: History | unknown,
  workflowId?: string,
  opts: { payloadWalks?: boolean } = {},
): Promise<void> {
  return (opts.payloadWalks ? ReplayWorkerWithWalks : ReplayWorker).runReplayHistory(options, history as History, workflowId);
}
