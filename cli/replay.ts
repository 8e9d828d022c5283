import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DeterminismViolationError } from '@temporalio/workflow';
import { readSettings } from '../workers/settings.js';
import { workflowBundle } from '../workers/worker.js';
import { Worker } from '@temporalio/worker';
import { CliError } from './files.js';

export interface ReplayOutcome {
  target: string;
  ok: boolean;
  message: string;
}

/** Replays histories (JSON files, or workflow ids fetched from TEMPORAL_ADDRESS) against the current interpreter. */
export async function replayTargets(targets: string[], opts: { workflowId?: string } = {}): Promise<ReplayOutcome[]> {
  const bundle = await workflowBundle();
  const settings = readSettings();
  let client: Client | undefined;
  const out: ReplayOutcome[] = [];
  try {
    for (const target of targets) {
      let history: unknown;
      let workflowId: string;
      if (existsSync(target)) {
        try {
          history = JSON.parse(await readFile(target, 'utf8'));
        } catch (err) {
          throw new CliError(`${target}: not a JSON history: ${(err as Error).message}`);
        }
        const started = (history as { events?: { workflowExecutionStartedEventAttributes?: { input?: unknown } }[] }).events?.[0];
        if (!started?.workflowExecutionStartedEventAttributes)
          throw new CliError(`${target}: not a Temporal history (no WorkflowExecutionStarted event first)`);
        // a history file does not carry its workflow id; ids feed inquiry and child ids, so it can be given
        workflowId = opts.workflowId ?? basename(target).replace(/\.json$/, '');
      } else {
        client ??= new Client({
          connection: await Connection.connect({ address: settings.temporalAddress ?? '127.0.0.1:7233' }),
          namespace: settings.namespace,
        });
        history = await client.workflow.getHandle(target).fetchHistory();
        workflowId = target;
      }
      try {
        await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
        out.push({ target, ok: true, message: 'replays' });
      } catch (err) {
        if (err instanceof DeterminismViolationError)
          out.push({ target, ok: false, message: `non-determinism: ${err.message.split('Details:').pop()?.trim() ?? err.message}` });
        else out.push({ target, ok: false, message: err instanceof Error ? err.message : String(err) });
      }
    }
  } finally {
    await client?.connection.close();
  }
  return out;
}
