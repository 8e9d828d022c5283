import { Worker } from '@temporalio/worker';
import type { Logger } from '@temporalio/common';
import type { CompiledWorkerOptions } from '@temporalio/worker/lib/worker-options.js';
import type { WorkflowCreator } from '@temporalio/worker/lib/workflow/interface.js';
import type { WorkflowBundleWithSourceMapAndFilename } from '@temporalio/worker/lib/workflow/workflow-worker-thread/input.js';

type HandleActivation = Worker['handleActivation'];

/** What the supervisor hears of each workflow activation: which run is on a workflow thread, and when it is off again. */
export type ActivationReport = { phase: 'start'; runId: string; workflowId: string; workflowType: string } | { phase: 'end'; runId: string };

/**
 * The SDK's worker, telling the process that supervises it which runs are being activated. When a
 * workflow task crashes the process (a workflow thread held past the sandbox's time limit aborts
 * Node), the runs that were on a thread at that moment are the suspects (workers/supervisor.ts).
 */
export class ReportingWorker extends Worker {
  /** Set before Worker.create; one reporter per process. */
  static report: (r: ActivationReport) => void = () => {};
  /** Without the SDK's per-call sandbox time limit: the supervisor stops a workflow thread held too long (workers/supervisor.ts). */
  static unwatched = process.env.CLOSELOOP_SANDBOX_TIMEOUT === 'off';

  protected static override async createWorkflowCreator(
    bundle: WorkflowBundleWithSourceMapAndFilename,
    options: CompiledWorkerOptions,
    logger: Logger,
  ): Promise<WorkflowCreator> {
    return super.createWorkflowCreator(
      bundle,
      ReportingWorker.unwatched ? { ...options, isolateExecutionTimeoutMs: undefined as unknown as number } : options,
      logger,
    );
  }

  protected override async handleActivation(...args: Parameters<HandleActivation>): ReturnType<HandleActivation> {
    const [workflow, { activation }] = args;
    const runId = activation.runId;
    const init = activation.jobs.find((j) => j.initializeWorkflow)?.initializeWorkflow;
    const workflowId = workflow?.info.workflowId ?? init?.workflowId ?? '';
    const workflowType = workflow?.info.workflowType ?? init?.workflowType ?? '';
    const queriesOnly = activation.jobs.length > 0 && activation.jobs.every((j) => j.queryWorkflow || j.removeFromCache);
    if (!queriesOnly && workflowId) ReportingWorker.report({ phase: 'start', runId, workflowId, workflowType });
    try {
      return await super.handleActivation(...args);
    } finally {
      if (!queriesOnly && workflowId) ReportingWorker.report({ phase: 'end', runId });
    }
  }
}
