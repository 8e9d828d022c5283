// One Temporal dev server and one workflow bundle for the whole test run; migrations applied once.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { openStore, migrate } from '../store/db.js';
import { ALL_SEARCH_ATTRIBUTES } from '../contracts/definitions.js';
import { findTemporalCli } from '../workers/temporal-cli.js';
import { PROJECT_ROOT } from '../workers/settings.js';
import { WORKFLOWS_PATH, bundleOptions } from '../workers/worker.js';
import { TEST_DATABASE_URL } from './database-url.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    bundlePath: string;
    temporalCli: string;
  }
}

let env: TestWorkflowEnvironment | undefined;

export async function setup(project: TestProject): Promise<void> {
  const cli = findTemporalCli();
  const store = await openStore({ databaseUrl: TEST_DATABASE_URL });
  await migrate(store);
  await store.close();

  const [started, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: cli },
        searchAttributes: ALL_SEARCH_ATTRIBUTES,
        // cheap continue-as-new in tests; fast namespace cache for search attributes
        extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=200', '--log-level', 'error'],
      },
    }),
    bundleWorkflowCode(bundleOptions(WORKFLOWS_PATH)),
  ]);
  env = started;
  const dir = join(PROJECT_ROOT, 'test', '.tmp');
  await mkdir(dir, { recursive: true });
  const bundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, bundle.code);
  project.provide('temporalAddress', env.address);
  project.provide('bundlePath', bundlePath);
  project.provide('temporalCli', cli);
}

export async function teardown(): Promise<void> {
  await env?.teardown();
}
