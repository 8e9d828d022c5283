import { ApplicationFailure } from '@temporalio/activity';
import type { PluginDef } from '../contracts/config.js';
import { httpRequest } from './http.js';
import type { PluginCallInput, PluginPollInput } from './types.js';
import type { Store } from '../store/db.js';
import { callbacks } from '../store/schema.js';
import { FAILURE } from '../contracts/failures.js';
import { schemaProblems } from '../dsl/ajv.js';
import { findTextProblem } from '../dsl/text.js';

/** A plugin's answer must be something a run can hold: no NUL or lone surrogate, no hostile depth (a non-retryable failure naming where). */
function checkedAnswer(plugin: string, body: unknown): unknown {
  const problem = findTextProblem(body);
  if (problem)
    throw ApplicationFailure.create({
      type: FAILURE.pluginAnswer,
      message: `plugin '${plugin}' answered with a body that cannot be stored: ${problem.path ? `at ${problem.path}: ` : ''}${problem.message}`,
      nonRetryable: true,
    });
  return body;
}

/** Resolves a plugin secret by name; wired by workers/ (read only inside the activity that uses it). */
export type SecretResolver = (name: string) => string | undefined;

function authHeaders(plugin: PluginDef, secret: SecretResolver): Record<string, string> {
  if (!plugin.auth?.secret) return {};
  const token = secret(plugin.auth.secret);
  if (!token)
    throw ApplicationFailure.create({
      type: FAILURE.missingSecret,
      message: `plugin '${plugin.id}': secret '${plugin.auth.secret}' is not set`,
      nonRetryable: true,
    });
  return { authorization: `Bearer ${token}` };
}

/** Plugin actions (sync and async): POST {base_url}/plugin/runtime/{id}/execute with the task run's idempotency key. */
export function pluginActivities(deps: { plugins: () => ReadonlyMap<string, PluginDef>; secret: SecretResolver; publicUrl?: string; store?: Store }) {
  const pluginFor = (id: string) => {
    const plugin = deps.plugins().get(id);
    if (!plugin) throw ApplicationFailure.create({ type: FAILURE.unknownPlugin, message: `plugin '${id}' is not in config/plugins.yaml`, nonRetryable: true });
    return plugin;
  };
  return {
    /** Asynchronous calls end here when the callback did not come: GET the status URL (or the runtime's default). */
    async pollPlugin(
      input: PluginPollInput,
    ): Promise<{ status: 'succeeded' | 'failed' | 'running'; result?: unknown; error?: { message?: string; type?: string } }> {
      const plugin = pluginFor(input.plugin);
      const url =
        input.statusUrl ??
        `${plugin.base_url.replace(/\/$/, '')}/plugin/runtime/${encodeURIComponent(plugin.id)}/status/${encodeURIComponent(input.idempotencyKey)}`;
      const res = await httpRequest({
        method: 'GET',
        url,
        headers: authHeaders(plugin, deps.secret),
        idempotencyKey: input.idempotencyKey,
        timeout: plugin.timeout ?? 30,
        expected_status: [200, 202, 404],
      });
      const body = (checkedAnswer(plugin.id, res.body) ?? {}) as { status?: string; result?: unknown; error?: { message?: string; type?: string } };
      if (res.status === 404 || !body.status || !['succeeded', 'failed'].includes(body.status)) return { status: 'running' };
      return body.status === 'succeeded'
        ? { status: 'succeeded', result: body.result }
        : { status: 'failed', error: body.error ?? { message: 'the plugin reported a failure' } };
    },
    async callPlugin(input: PluginCallInput): Promise<unknown> {
      const plugin = deps.plugins().get(input.plugin);
      if (!plugin)
        throw ApplicationFailure.create({ type: FAILURE.unknownPlugin, message: `plugin '${input.plugin}' is not in config/plugins.yaml`, nonRetryable: true });
      const allowed = plugin.allowed_tenants ?? ['*'];
      if (!allowed.includes('*') && !allowed.includes(input.tenant))
        throw ApplicationFailure.create({
          type: FAILURE.pluginNotAllowed,
          message: `tenant '${input.tenant}' may not call plugin '${plugin.id}'`,
          nonRetryable: true,
        });
      const headers = authHeaders(plugin, deps.secret);
      let callbackUrl: string | null = null;
      if (input.callback) {
        if (!deps.publicUrl || !deps.store)
          throw ApplicationFailure.create({
            type: FAILURE.callbacksUnavailable,
            message: 'asynchronous plugin calls need CLOSELOOP_PUBLIC_URL and a database on this worker',
            nonRetryable: true,
          });
        await deps.store.db
          .insert(callbacks)
          .values({ token: input.callback.token, tenant: input.tenant, executionId: input.callback.executionId, task: input.callback.task })
          .onConflictDoNothing();
        callbackUrl = `${deps.publicUrl.replace(/\/$/, '')}/v1/callbacks/${input.callback.token}`;
      }
      const res = await httpRequest({
        method: 'POST',
        url: `${plugin.base_url.replace(/\/$/, '')}/plugin/runtime/${encodeURIComponent(plugin.id)}/execute`,
        headers,
        body: {
          operation: input.operation,
          input: input.input,
          idempotency_key: input.idempotencyKey,
          callback_url: callbackUrl,
          tenant: input.tenant,
          trace_id: input.traceId ?? null,
        },
        timeout: input.timeout ?? plugin.timeout ?? 30,
        idempotencyKey: input.idempotencyKey,
        ...(input.traceId ? { traceId: input.traceId } : {}),
      });
      const body = checkedAnswer(plugin.id, res.body);
      const result = body && typeof body === 'object' && 'result' in (body as object) ? (body as { result: unknown }).result : body;
      const problems = input.output && !input.callback ? schemaProblems(input.output, result, 'result') : [];
      if (problems.length)
        throw ApplicationFailure.create({
          type: FAILURE.output,
          message: `plugin '${plugin.id}' (${input.operation}) answered a result that does not match the action's output schema: ${problems.join('; ')}`,
          nonRetryable: true,
        });
      return result;
    },
  };
}
