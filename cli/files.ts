import { readFile } from 'node:fs/promises';
import { basename, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { parseMocks, type Mocks } from '../dsl/mocks.js';
import { loadPackContents, loadPackWorkflows, type PackContents } from '../workers/config.js';
import { validateWorkflow, type CompiledWorkflow, type Limits } from '../dsl/index.js';
import { loadLimits } from '../workers/agent-config.js';
import { pinActions, pinNested } from '../dsl/nested.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** The ref of a file that has none (another dialect's): `<pack>.<file stem>`, the pack being the folder above `workflows/`, else the file's folder. */
export function refFromPath(file: string): string {
  const parts = resolve(file).split(sep);
  const stem = basename(file)
    .replace(/\.ya?ml$/, '')
    .replace(/\.workflow$/, '');
  // <pack>/workflows/x.yaml, or Attune's <pack>/actions/workflows/x.workflow.yaml
  const up = (n: number) => parts[parts.length - n];
  const dir = up(2) === 'workflows' ? (up(3) === 'actions' ? up(4) : up(3)) : up(2);
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'local';
  return `${clean(dir ?? 'local')}.${clean(stem)}`;
}

export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export async function readMocks(file: string | undefined): Promise<Mocks | undefined> {
  if (!file) return undefined;
  try {
    return parseMocks(parse(await readText(file)), file);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${file}: ${(err as Error).message}`);
  }
}

/** `--input '{"a":1}'` or `--input @file.json` (JSON or YAML). */
export async function readInput(value: string | undefined): Promise<Record<string, unknown>> {
  if (!value) return {};
  const text = value.startsWith('@') ? await readText(value.slice(1)) : value;
  let parsed: unknown;
  try {
    parsed = value.startsWith('@') ? parse(text) : JSON.parse(text);
  } catch (err) {
    throw new CliError(`--input: not valid ${value.startsWith('@') ? 'JSON/YAML' : 'JSON'}: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError('--input: must be a JSON object of parameters');
  return parsed as Record<string, unknown>;
}

export interface PackIndex {
  workflows: Map<string, { file: string; yaml: string }>;
  contents: PackContents;
  /** config/limits.yaml: what a workflow file may ask for. */
  limits: Limits;
  /** Known action refs: pack workflows, pack actions and the given mocked refs. */
  known(mocked: ReadonlySet<string>): (ref: string) => boolean;
  /** Nested workflows and pack actions pinned into a run; mocked refs stay with the worker's mocks. */
  pin(wf: CompiledWorkflow, mocked: ReadonlySet<string>): Promise<CompiledWorkflow>;
}

export async function loadPackIndex(configDir: string): Promise<PackIndex> {
  const contents = await loadPackContents(configDir, () => {});
  const limits = await loadLimits(configDir);
  const workflows = new Map(
    (await loadPackWorkflows(configDir, new Set(contents.actions.keys()), () => {}, limits)).map((p) => [
      p.workflow.ref,
      { file: p.file, yaml: p.yaml, dialect: p.dialect },
    ]),
  );
  const known = (mocked: ReadonlySet<string>) => (ref: string) => workflows.has(ref) || contents.actions.has(ref) || mocked.has(ref);
  return {
    workflows,
    contents,
    limits,
    known,
    async pin(wf, mocked) {
      const nested = await pinNested(wf, async (ref) => {
        if (mocked.has(ref)) return null;
        const p = workflows.get(ref);
        return p ? (validateWorkflow(p.yaml, { isKnownAction: known(mocked), limits, dialect: p.dialect }).workflow ?? null) : null;
      });
      return pinActions(nested, contents.actions, contents.config, mocked);
    },
  };
}
