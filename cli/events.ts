import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { sign, SIGNATURE_HEADER } from '../api/intake/signature.js';
import { checkEnvelope } from '../dsl/event.js';
import { withDefaults, type Strategy } from '../dsl/strategy.js';
import { StrategyIndex, type MatchResult } from '../dsl/strategy-match.js';
import { loadStrategyFiles } from '../workers/agent-config.js';
import { loadTenants } from '../workers/config.js';
import type { Settings } from '../workers/settings.js';
import { CliError, readText } from './files.js';

const apiBase = (s: Settings, env: NodeJS.ProcessEnv) => (env.CLOSELOOP_API_URL || `http://127.0.0.1:${s.port}`).replace(/\/$/, '');
const apiKey = (s: Settings, env: NodeJS.ProcessEnv) => env.CLOSELOOP_API_KEY || s.devApiKey;

async function api(s: Settings, env: NodeJS.ProcessEnv, path: string): Promise<unknown> {
  const url = `${apiBase(s, env)}${path}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey(s, env)}` } }).catch((err: Error) => {
    throw new CliError(
      `cannot reach the Closeloop API at ${apiBase(s, env)} (${(err.cause as { code?: string } | undefined)?.code ?? err.message}); set CLOSELOOP_API_URL`,
      2,
    );
  });
  const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
  if (!res.ok) throw new CliError(`GET ${path}: HTTP ${res.status}: ${body?.error?.message ?? 'no details'}`, res.status === 404 ? 1 : 2);
  return body;
}

/** `closeloop strategy test <event.json>`: which strategies were candidates, which conditions failed, who wins. Nothing starts. */
export async function strategyTest(
  file: string,
  opts: { from: 'config' | 'api'; json?: boolean },
  settings: Settings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let body: unknown;
  try {
    body = JSON.parse(await readText(file));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${file}: not JSON: ${(err as Error).message}`, 2);
  }
  const checked = checkEnvelope(body);
  if (!checked.ok) throw new CliError(`${file}: invalid event envelope:\n${checked.problems.map((p) => `  ${p.location}: ${p.message}`).join('\n')}`, 2);
  let strategies: Strategy[];
  if (opts.from === 'api') {
    const listed = (await api(settings, env, '/v1/strategies')) as { strategies: Record<string, unknown>[] };
    strategies = listed.strategies.map((s) => withDefaults(s));
  } else {
    const problems: string[] = [];
    strategies = await loadStrategyFiles(settings.configDir, (line) => problems.push(line));
    for (const p of problems) console.error(p);
  }
  const event = checked.event;
  const result = new StrategyIndex(strategies).match(event, { explain: true });
  if (opts.json) console.log(JSON.stringify({ event: { id: event.id, type: event.type, tenant: event.tenant }, ...result }, null, 2));
  else
    console.log(
      describeMatch(event.id, event.type, event.tenant, result, opts.from === 'api' ? 'the API' : relative(process.cwd(), settings.configDir) || '.'),
    );
  return result.winner && !result.error ? 0 : 1;
}

export function describeMatch(id: string, type: string, tenant: string, r: MatchResult, source: string): string {
  const lines = [`event ${id} (${type}) for tenant '${tenant}', strategies from ${source}`];
  lines.push(r.candidates.length ? `candidates (${r.candidates.length}, in precedence order):` : 'candidates: none listen to this type for this tenant');
  for (const c of r.candidates) {
    const mark = r.winner && r.winner.id === c.id && r.winner.version === c.version ? '→' : c.matched ? '✓' : '✗';
    lines.push(`  ${mark} ${c.id}@${c.version}  priority ${c.priority}, weight ${c.weight}`);
    for (const f of c.failed) lines.push(`      ${f.condition}  ${f.reason === 'false' ? 'is false' : `failed: ${f.reason}`}`);
  }
  if (r.winner) {
    lines.push(`winner: ${r.winner.id}@${r.winner.version} → workflow ${r.winner.workflow}`);
    lines.push(r.error ? `parameters: ${r.error}` : `parameters: ${JSON.stringify(r.parameters)}`);
  } else lines.push('winner: none: the event would go to manual review');
  lines.push('nothing was started');
  return lines.join('\n');
}

/** `closeloop events replay <event-id|file>`: re-submits a stored or saved event through intake, signed with its tenant's secret. */
export async function eventsReplay(target: string, settings: Settings, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let envelope: unknown;
  if (existsSync(target)) {
    try {
      envelope = JSON.parse(await readText(target));
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`${target}: not JSON: ${(err as Error).message}`, 2);
    }
  } else {
    envelope = ((await api(settings, env, `/v1/events/${encodeURIComponent(target)}`)) as { envelope: unknown }).envelope;
  }
  const tenantId = (envelope as { tenant?: unknown } | null)?.tenant;
  if (typeof tenantId !== 'string') throw new CliError(`${target}: the event has no 'tenant'`, 2);
  const tenant = (await loadTenants(settings.configDir, env)).tenants.get(tenantId);
  if (!tenant?.signingSecret) throw new CliError(`tenant '${tenantId}' has no signing secret in ${settings.configDir}/tenants.yaml`, 2);
  const raw = JSON.stringify(envelope);
  // an operator replaying an event waits for its run to start (the answer says `started`)
  const res = await fetch(`${apiBase(settings, env)}/v1/events?wait=started`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(tenant.signingSecret, raw) },
    body: raw,
  }).catch((err: Error) => {
    throw new CliError(
      `cannot reach the Closeloop API at ${apiBase(settings, env)} (${(err.cause as { code?: string } | undefined)?.code ?? err.message}); set CLOSELOOP_API_URL`,
      2,
    );
  });
  const answer = await res.text();
  console.log(`HTTP ${res.status} ${answer}`);
  return res.status === 202 ? 0 : 1;
}
