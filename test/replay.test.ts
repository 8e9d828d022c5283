import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { replayHistory } from '../workers/replay.js';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, inject, it } from 'vitest';
import { installRuntime } from './helpers.js';

const DIR = join(import.meta.dirname, 'histories');
// workflows read their own id (child ids, inquiry ids), so each history replays under the id it was recorded with
const ids: Record<string, string> = { 'closure-run.json': 'run:replay:closure', 'closure.json': 'closure:run:replay:closure', 'incident.json': 'incident:replay:closure:run:replay:closure' };
const idOf = (file: string) => ids[file] ?? `run:replay:${file.replace(/\.json$/, '')}`;
const load = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { events: Record<string, any>[] };

describe('replay: committed histories still replay on the current interpreter', () => {
  installRuntime();
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

  it('has histories for each construct', () => {
    // *-indexed: recorded after the closeloop.index-with-audit patch (the others keep the older path replaying)
    expect(files.sort()).toEqual(['closure-run.json', 'closure.json', 'continue-as-new-indexed.json', 'continue-as-new.json', 'incident.json', 'inquiry-indexed.json', 'inquiry.json', 'items-and-retry.json', 'nested-and-shards.json', 'next-and-decision.json', 'parallel-join.json', 'sequential-indexed.json', 'sequential.json', 'unhandled-failure.json']);
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    await replayHistory({ workflowBundle: { codePath: inject('bundlePath') } }, load(file), idOf(file));
  });

  it('an altered history (a different activity where runAction was scheduled) fails replay', async () => {
    const history = load('items-and-retry.json');
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runAction');
    expect(scheduled).toBeDefined();
    scheduled!.activityTaskScheduledEventAttributes.activityType.name = 'httpRequest';
    await expect(replayHistory({ workflowBundle: { codePath: inject('bundlePath') } }, history, 'run:replay:altered')).rejects.toThrow(DeterminismViolationError);
  });
});
