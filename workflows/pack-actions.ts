import { condition, proxyActivities, setCurrentDetails, uuid4 } from '@temporalio/workflow';
import { ExpressionError, renderDeep } from '../dsl/expr/index.js';
import type { ActionDef } from '../dsl/actions.js';
import type { CoreActivities } from '../activities/types.js';
import { TaskFailure, asTaskFailure, requirePermission, taskMeta, runAttempt, type AttemptContext } from './actions.js';
import { FAILURE } from '../contracts/failures.js';
import { FEATURE } from '../contracts/features.js';
import type { TaskflowInput } from '../contracts/run.js';
import { uses } from './features.js';

/** Asynchronous plugin results are checked against the action's output schema (an activity runs them through ajv). */
export const ACTION_OUTPUT = FEATURE.actionOutput;

/** Results posted to `POST /v1/callbacks/{token}`, delivered to the run as the `callback` signal. */
export type CallbackBox = Map<string, unknown>;

/** A pack action: `runner: http` renders its request from `input` and `pack.config`; `runner: plugin` calls the plugin. */
export async function runPackAction(
  def: ActionDef,
  ctx: AttemptContext,
  packConfig: Record<string, unknown>,
  callbacks: CallbackBox,
  run: Pick<TaskflowInput, 'features'> = {},
): Promise<unknown> {
  if (def.runner === 'http') {
    let request: Record<string, unknown>;
    try {
      request = renderDeep(
        { method: def.method ?? 'POST', url: def.url, headers: def.headers ?? {}, ...(def.body !== undefined ? { body: def.body } : {}) },
        { input: ctx.input, pack: { config: packConfig } },
      ) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ExpressionError) throw new TaskFailure({ type: FAILURE.template, message: `action '${def.ref}' (${ctx.task}): ${err.describe()}` });
      throw err;
    }
    return runAttempt({
      ...ctx,
      ref: 'core.http',
      input: {
        ...request,
        ...(def.expected_status !== undefined ? { expected_status: def.expected_status } : {}),
        ...(def.timeout ? { timeout: def.timeout } : {}),
      },
    });
  }
  requirePermission(ctx, `plugin:${def.plugin}`);
  const limit = ctx.timeout ?? def.timeout ?? 30;
  const acts = proxyActivities<CoreActivities>({
    summary: ctx.label,
    startToCloseTimeout: `${limit + 5}s`,
    retry: ctx.temporalRetry ?? { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
  });
  const call = { plugin: def.plugin!, operation: def.operation!, input: ctx.input, timeout: limit, ...(def.output ? { output: def.output } : {}) };
  const meta = taskMeta(ctx);
  try {
    if (def.mode !== 'async') return await acts.callPlugin({ call, meta });
    // asynchronous: the plugin answers 202 now and posts the result to our callback URL later
    const token = uuid4();
    const accepted = (await acts.callPlugin({ call: { ...call, callback: { token, executionId: ctx.executionId, task: ctx.task } }, meta })) as {
      status_url?: string;
    } | null;
    const wait = def.callback_timeout ?? 120;
    setCurrentDetails(`${ctx.label}: waiting up to ${wait}s for the plugin's callback`);
    const arrived = await condition(() => callbacks.has(token), wait * 1000, { summary: `${ctx.label}: callback timeout` });
    setCurrentDetails('');
    const outcome = arrived
      ? (callbacks.get(token) as { status?: string; result?: unknown; error?: { message?: string; type?: string } })
      : await acts.pollPlugin({
          plugin: def.plugin!,
          idempotencyKey: ctx.idempotencyKey,
          tenant: ctx.tenant,
          ...(typeof accepted?.status_url === 'string' ? { statusUrl: accepted.status_url } : {}),
        });
    callbacks.delete(token);
    if (outcome?.status === 'failed')
      throw new TaskFailure({ type: outcome.error?.type ?? 'PluginError', message: outcome.error?.message ?? `plugin '${def.plugin}' reported a failure` });
    if (!arrived && outcome?.status !== 'succeeded')
      throw new TaskFailure(
        { type: FAILURE.timeout, message: `no callback from plugin '${def.plugin}' within ${wait}s and its status is still running` },
        true,
      );
    const result = outcome && 'result' in outcome ? outcome.result : outcome;
    // a result that came by callback or poll meets the action's output schema too
    if (def.output && uses(run, ACTION_OUTPUT)) {
      const problems = await acts.checkOutput({ schema: def.output, output: result });
      if (problems.length)
        throw new TaskFailure({
          type: FAILURE.output,
          message: `plugin '${def.plugin}' answered a result that does not match the output schema of '${def.ref}': ${problems.join('; ')}`,
        });
    }
    return result;
  } catch (err) {
    throw asTaskFailure(err);
  }
}

/** Runs one attempt of any action: a pinned pack action through its runner, anything else as a built-in. */
export function runAnyAction(
  ctx: AttemptContext,
  actions: Record<string, ActionDef> | undefined,
  packConfigs: Record<string, Record<string, unknown>> | undefined,
  callbacks: CallbackBox,
  run: Pick<TaskflowInput, 'features'> = {},
): Promise<unknown> {
  const def = ctx.mocked ? undefined : actions?.[ctx.ref];
  return def ? runPackAction(def, ctx, packConfigs?.[def.ref.split('.')[0]!] ?? {}, callbacks, run) : runAttempt(ctx);
}
