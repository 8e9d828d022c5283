import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { formatDiagnostic } from '../dsl/index.js';
import { parseStrategies, type Strategy } from '../dsl/strategy.js';
import type { Endpoints } from '../activities/reviews.js';
import { parseClosureRules, type ClosureRule } from '../dsl/closure-rules.js';
import { EMPTY_ESCALATION, parseEscalation, type EscalationConfig } from '../dsl/escalation.js';
import { parseLimits } from '../dsl/limits-file.js';
import { DEFAULT_WORKFLOW_LIMITS, type Limits } from '../dsl/types.js';

/** config/agent/strategies/*.yaml; a bad file is reported with positions and skipped whole. */
export async function loadStrategyFiles(configDir: string, report: (line: string) => void = console.error): Promise<Strategy[]> {
  const dir = join(configDir, 'agent', 'strategies');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /\.ya?ml$/.test(f)).sort();
  const out: Strategy[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    const file = join(dir, f);
    const shown = relative(process.cwd(), file);
    const parsed = parseStrategies(await readFile(file, 'utf8'));
    for (const d of parsed.diagnostics) report(formatDiagnostic(shown, d));
    for (const s of parsed.strategies) {
      const key = `${s.id}@${s.version}`;
      if (seen.has(key)) report(`${shown}:1:1: strategy '${key}' is also defined in ${seen.get(key)}; the first one is kept`);
      else {
        seen.set(key, shown);
        out.push(s);
      }
    }
  }
  return out;
}

type UrlSetting = string | { env: string; default?: string } | null | undefined;
const urlOf = (v: UrlSetting, env: NodeJS.ProcessEnv): string | undefined =>
  v == null ? undefined : typeof v === 'string' ? v : env[v.env] || v.default || undefined;

/** config/agent/endpoints.yaml: where Closeloop reports outward (absent file = nowhere). */
export async function loadEndpoints(configDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Endpoints> {
  const text = await readFile(join(configDir, 'agent', 'endpoints.yaml'), 'utf8').catch(() => null);
  const raw = (text ? (parse(text) as Record<string, { url?: UrlSetting; from?: string } | null> | null) : null) ?? {};
  const manualReview = urlOf(raw.manual_review?.url, env);
  const auditReport = urlOf(raw.audit_report?.url, env);
  const smtpUrl = urlOf((raw.smtp as { url?: UrlSetting } | null | undefined)?.url, env);
  const smtpFrom = (raw.smtp as { from?: string } | null | undefined)?.from ?? 'closeloop@localhost';
  let smtp: Endpoints['smtp'];
  if (smtpUrl) {
    // smtp://user:pass@host:port or smtps://...
    const u = new URL(smtpUrl);
    smtp = {
      host: u.hostname,
      port: Number(u.port || (u.protocol === 'smtps:' ? 465 : 25)),
      secure: u.protocol === 'smtps:',
      from: u.searchParams.get('from') ?? smtpFrom,
      ...(u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : {}),
    };
  }
  return { ...(manualReview ? { manualReview } : {}), ...(auditReport ? { auditReport } : {}), ...(smtp ? { smtp } : {}) };
}

async function readOptional(file: string): Promise<string | null> {
  return readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)));
}

/** config/limits.yaml (absent = dsl.md's defaults); a bad file is reported and `previous` stays in force. */
export async function loadLimits(
  configDir: string,
  report: (line: string) => void = console.error,
  previous: Limits = DEFAULT_WORKFLOW_LIMITS,
): Promise<Limits> {
  const file = join(configDir, 'limits.yaml');
  const text = await readOptional(file);
  if (text === null) return DEFAULT_WORKFLOW_LIMITS;
  const parsed = parseLimits(text);
  for (const d of parsed.diagnostics) report(formatDiagnostic(relative(process.cwd(), file), d));
  return parsed.limits ?? previous;
}

/** config/agent/closure_rules.yaml by id; a bad file is reported with positions and `previous` stays in force. */
export async function loadClosureRules(
  configDir: string,
  report: (line: string) => void = console.error,
  previous: ReadonlyMap<string, ClosureRule> = new Map(),
): Promise<ReadonlyMap<string, ClosureRule>> {
  const file = join(configDir, 'agent', 'closure_rules.yaml');
  const text = await readOptional(file);
  if (text === null) return new Map();
  const parsed = parseClosureRules(text);
  for (const d of parsed.diagnostics) report(formatDiagnostic(relative(process.cwd(), file), d));
  if (parsed.diagnostics.some((d) => d.severity === 'error')) return previous;
  return new Map(parsed.rules.map((r) => [r.id, r]));
}

/** config/agent/escalation.yaml; a bad file is reported and `previous` stays in force. */
export async function loadEscalation(
  configDir: string,
  report: (line: string) => void = console.error,
  previous: EscalationConfig = EMPTY_ESCALATION,
): Promise<EscalationConfig> {
  const file = join(configDir, 'agent', 'escalation.yaml');
  const text = await readOptional(file);
  if (text === null) return EMPTY_ESCALATION;
  const parsed = parseEscalation(text);
  for (const d of parsed.diagnostics) report(formatDiagnostic(relative(process.cwd(), file), d));
  return parsed.config ?? previous;
}
