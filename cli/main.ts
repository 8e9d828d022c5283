import { Command } from 'commander';
import { formatDiagnostic, toDot, toMermaid, validateWorkflow } from '../dsl/index.js';
import { readSettings } from '../workers/settings.js';
import { CliError, loadPackIndex, readMocks, readText, refFromPath } from './files.js';
import { mockedOf } from '../dsl/mocks.js';
import { runCommand } from './run.js';

const program = new Command('closeloop').description('Closeloop: durable, auditable automation on Temporal').showHelpAfterError();

program
  .command('validate')
  .argument('<files...>', 'workflow files')
  .option('--mock <file>', 'mocks file: mocked refs count as known actions')
  .option('--allow-unknown-actions', 'report unknown action refs as warnings')
  .option('--ref <ref>', "the ref of a file that has none (Orquesta's): default <pack>.<file stem>")
  .description('validate workflow files; prints file:line:col: message and exits 1 on any error')
  .action(async (files: string[], opts: { mock?: string; allowUnknownActions?: boolean; ref?: string }) => {
    const mocks = await readMocks(opts.mock);
    const packs = await loadPackIndex(readSettings().configDir);
    const mocked = mockedOf(mocks);
    const known = packs.known(new Set(mocked.refs));
    let failed = false;
    for (const file of files) {
      const r = validateWorkflow(await readText(file), {
        isKnownAction: known,
        isMockedTask: (n) => mocked.tasks.includes(n),
        allowUnknownActions: !!opts.allowUnknownActions,
        limits: packs.limits,
        dialect: { ref: opts.ref ?? refFromPath(file) },
      });
      for (const d of r.diagnostics) console.log(formatDiagnostic(file, d));
      if (!r.ok) failed = true;
    }
    process.exitCode = failed ? 1 : 0;
  });

program
  .command('graph')
  .argument('<file>', 'workflow file')
  .option('--format <format>', 'mermaid | dot | json', 'mermaid')
  .option('--ref <ref>', "the ref of a file that has none (Orquesta's): default <pack>.<file stem>")
  .description('print the task graph')
  .action(async (file: string, opts: { format: string; ref?: string }) => {
    const r = validateWorkflow(await readText(file), { allowUnknownActions: true, dialect: { ref: opts.ref ?? refFromPath(file) } });
    if (!r.workflow) {
      for (const d of r.diagnostics) console.error(formatDiagnostic(file, d));
      throw new CliError(`${file}: invalid workflow`, 1);
    }
    if (opts.format === 'json') console.log(JSON.stringify(r.workflow, null, 2));
    else if (opts.format === 'dot') console.log(toDot(r.workflow));
    else if (opts.format === 'mermaid') console.log(toMermaid(r.workflow));
    else throw new CliError(`--format must be mermaid, dot or json (got '${opts.format}')`);
  });

program
  .command('run')
  .argument('<target>', 'a workflow file, or the ref of a workflow in config/packs')
  .option('--input <json|@file>', 'parameters as JSON, or @file (JSON or YAML)')
  .option('--mock <file>', 'mocks: action ref -> behaviour (runs a private worker)')
  .option('--wait', 'wait for the run to end')
  .option('--json', 'print the run summary as JSON')
  .description('start a run; with --wait --json prints the run summary and exits 0 only if it succeeded')
  .action(async (target: string, opts: { input?: string; mock?: string; wait?: boolean; json?: boolean }) => {
    process.exitCode = await runCommand(target, opts);
  });

program
  .command('test')
  .argument('<files...>', 'workflow test files (YAML: workflow, cases)')
  .description('run workflow test cases on a time-skipping server; prints `N passed, N failed` last, exit 1 on any failure')
  .action(async (files: string[]) => {
    const { DefaultLogger, Runtime, makeTelemetryFilterString } = await import('@temporalio/worker');
    (await import('../workers/worker.js')).limitWorkflowStacks();
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
    const { runTestFiles } = await import('./test-runner.js');
    const results = await runTestFiles(files, { configDir: readSettings().configDir });
    const failed = results.filter((r) => r.problems.length).length;
    console.log(`${results.length - failed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  });

program
  .command('replay')
  .argument('<targets...>', 'workflow ids (fetched from TEMPORAL_ADDRESS) or history JSON files')
  .option('--workflow-id <id>', 'the workflow id of a history file (default: the file name without .json)')
  .description('replay histories against the current interpreter; exit 1 on non-determinism')
  .action(async (targets: string[], opts: { workflowId?: string }) => {
    const { DefaultLogger, Runtime, makeTelemetryFilterString } = await import('@temporalio/worker');
    (await import('../workers/worker.js')).limitWorkflowStacks();
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
    const { replayTargets } = await import('./replay.js');
    const results = await replayTargets(targets, opts.workflowId ? { workflowId: opts.workflowId } : {});
    for (const r of results) console.log(`${r.ok ? '✓' : '✗'} ${r.target}: ${r.message}`);
    const failed = results.filter((r) => !r.ok).length;
    console.log(`${results.length - failed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  });

const strategy = program.command('strategy').description('the strategy library');
strategy
  .command('test')
  .argument('<event>', 'an event envelope (JSON file)')
  .option('--from <source>', 'config (config/agent/strategies) or api (the running library, CLOSELOOP_API_URL/CLOSELOOP_API_KEY)', 'config')
  .option('--json', 'print the match as JSON')
  .description('which strategies were candidates, which conditions failed, which one wins and its parameters; starts nothing (exit 1 when none matches)')
  .action(async (file: string, opts: { from: string; json?: boolean }) => {
    if (opts.from !== 'config' && opts.from !== 'api') throw new CliError(`--from must be config or api (got '${opts.from}')`);
    const { strategyTest } = await import('./events.js');
    process.exitCode = await strategyTest(file, { from: opts.from, ...(opts.json ? { json: true } : {}) }, readSettings());
  });

program
  .command('events')
  .description('stored events')
  .command('replay')
  .argument('<target>', 'a stored event id (fetched from the API) or a saved envelope (JSON file)')
  .description("re-submits an event through intake, signed with its tenant's secret; an event that already started a run answers 'duplicate'")
  .action(async (target: string) => {
    const { eventsReplay } = await import('./events.js');
    process.exitCode = await eventsReplay(target, readSettings());
  });

program
  .command('secrets')
  .argument('<action>', 'rotate: re-seal every kv secret under CLOSELOOP_SECRET_KEY (the old key in CLOSELOOP_SECRET_KEY_PREVIOUS)')
  .description('kv secrets at rest (docs/security.md "Secrets")')
  .action(async (action: string) => {
    if (action !== 'rotate') throw new CliError(`unknown secrets action '${action}' (rotate)`);
    const { openDatabase } = await import('../workers/bootstrap.js');
    const { KvRepo } = await import('../store/kv-repo.js');
    const store = await openDatabase(readSettings());
    try {
      const r = await new KvRepo(store.db).rotate();
      console.log(`re-sealed ${r.resealed} secret(s); ${r.current} already under the current key`);
    } finally {
      await store.close();
    }
  });

program.parseAsync(process.argv).then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    if (err instanceof CliError) {
      console.error(`closeloop: ${err.message}`);
      process.exit(err.exitCode);
    }
    console.error(`closeloop: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
