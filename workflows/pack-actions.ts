import { proxyActivities } from '@temporalio/workflow';
import { ExpressionError, renderDeep } from '../dsl/expr/index.js';
import type { ActionDef } from '../dsl/actions.js';
import type { CoreActivities } from '../activities/types.js';
import { TaskFailure, asTaskFailure, runAttempt, type AttemptContext } from './actions.js';

/** A pack action: `runner: http` renders its request from `input` and `pack.config`; `runner: plugin` calls the plugin. */
export async function runPackAction(def: ActionDef, ctx: AttemptContext, packConfig: Record<string, unknown>): Promise<unknown> {
  if (def.runner === 'http') {
    let request: Record<string, unknown>;
    try {
      request = renderDeep({ method: def.method ?? 'POST', url: def.url, headers: def.headers ?? {}, ...(def.body !== undefined ? { body: def.body } : {}) }, { input: ctx.input, pack: { config: packConfig } }) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ExpressionError) throw new TaskFailure({ type: 'TemplateError', message: `action '${def.ref}' (${ctx.task}): ${err.describe()}` });
      throw err;
    }
    return runAttempt({ ...ctx, ref: 'core.http', input: { ...request, ...(def.expected_status !== undefined ? { expected_status: def.expected_status } : {}), ...(def.timeout ? { timeout: def.timeout } : {}) } });
  }
  const limit = ctx.timeout ?? def.timeout ?? 30;
  const acts = proxyActivities<CoreActivities>({ summary: ctx.label, startToCloseTimeout: `${limit + 5}s`, retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 } });
  try {
    return await acts.callPlugin({ plugin: def.plugin!, operation: def.operation!, input: ctx.input, idempotencyKey: ctx.idempotencyKey, tenant: ctx.tenant, timeout: limit, ...(ctx.traceId ? { traceId: ctx.traceId } : {}) });
  } catch (err) {
    throw asTaskFailure(err);
  }
}
