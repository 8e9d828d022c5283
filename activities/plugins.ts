import { ApplicationFailure } from '@temporalio/activity';
import type { PluginDef } from '../workers/config.js';
import { httpRequest } from './http.js';
import type { PluginCallInput } from './types.js';

/** `secret: plugins.billing.token` reads CLOSELOOP_SECRET_PLUGINS_BILLING_TOKEN: secrets stay out of workflow input and history. */
export function secretFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[`CLOSELOOP_SECRET_${name.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`];
}

/** Plugin actions (sync): POST {base_url}/plugin/runtime/{id}/execute with the task run's idempotency key. */
export function pluginActivities(deps: { plugins: () => ReadonlyMap<string, PluginDef> }) {
  return {
    async callPlugin(input: PluginCallInput): Promise<unknown> {
      const plugin = deps.plugins().get(input.plugin);
      if (!plugin) throw ApplicationFailure.create({ type: 'UnknownPlugin', message: `plugin '${input.plugin}' is not in config/plugins.yaml`, nonRetryable: true });
      const allowed = plugin.allowed_tenants ?? ['*'];
      if (!allowed.includes('*') && !allowed.includes(input.tenant)) throw ApplicationFailure.create({ type: 'PluginNotAllowed', message: `tenant '${input.tenant}' may not call plugin '${plugin.id}'`, nonRetryable: true });
      const headers: Record<string, string> = {};
      const token = plugin.auth?.secret ? secretFromEnv(plugin.auth.secret) : plugin.auth?.token_env ? process.env[plugin.auth.token_env] : undefined;
      if (plugin.auth && !token) throw ApplicationFailure.create({ type: 'MissingSecret', message: `plugin '${plugin.id}': secret '${plugin.auth.secret ?? plugin.auth.token_env}' is not set`, nonRetryable: true });
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await httpRequest({
        method: 'POST',
        url: `${plugin.base_url.replace(/\/$/, '')}/plugin/runtime/${encodeURIComponent(plugin.id)}/execute`,
        headers,
        body: { operation: input.operation, input: input.input, idempotency_key: input.idempotencyKey, callback_url: null, tenant: input.tenant, trace_id: input.traceId ?? null },
        timeout: input.timeout ?? plugin.timeout ?? 30,
        idempotencyKey: input.idempotencyKey,
        ...(input.traceId ? { traceId: input.traceId } : {}),
      });
      const body = res.body as { result?: unknown } | unknown;
      return body && typeof body === 'object' && 'result' in (body as object) ? (body as { result: unknown }).result : body;
    },
  };
}
