import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { formatDiagnostic } from '../dsl/index.js';
import { parseStrategies, type Strategy } from '../dsl/strategy.js';
import type { Endpoints } from '../activities/reviews.js';

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
const urlOf = (v: UrlSetting, env: NodeJS.ProcessEnv): string | undefined => (v == null ? undefined : typeof v === 'string' ? v : env[v.env] || v.default || undefined);

/** config/agent/endpoints.yaml: where Closeloop reports outward (absent file = nowhere). */
export async function loadEndpoints(configDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Endpoints> {
  const text = await readFile(join(configDir, 'agent', 'endpoints.yaml'), 'utf8').catch(() => null);
  const raw = (text ? (parse(text) as Record<string, { url?: UrlSetting } | null> | null) : null) ?? {};
  const manualReview = urlOf(raw.manual_review?.url, env);
  return manualReview ? { manualReview } : {};
}
