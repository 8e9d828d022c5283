import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { replayHistory } from '../workers/replay.js';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, inject, it } from 'vitest';
import { installRuntime } from './helpers.js';

const DIR = join(import.meta.dirname, 'histories');
// workflows read their own id (child ids, inquiry ids), so each history replays under the id it was recorded with
const ids: Record<string, string> = {
  'closure-run.json': 'run:replay:closure',
  'closure.json': 'closure:run:replay:closure',
  'incident.json': 'incident:replay:closure:run:replay:closure',
};
const idOf = (file: string) => ids[file] ?? `run:replay:${file.replace(/\.json$/, '')}`;
const load = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { events: Record<string, any>[] };

describe('replay: committed histories still replay on the current interpreter', () => {
  installRuntime();
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

  it('has histories for each construct', () => {
    // *-indexed: recorded after the closeloop.index-with-audit patch (the others keep the older path replaying)
    expect(files.sort()).toEqual([
      'closure-run.json',
      'closure.json',
      'continue-as-new-indexed.json',
      'continue-as-new.json',
      'incident.json',
      'inquiry-indexed.json',
      'inquiry.json',
      'items-and-retry-rides.json',
      'items-and-retry-temporal-retries.json',
      'items-and-retry.json',
      'nested-and-shards.json',
      'next-and-decision.json',
      'parallel-join.json',
      'sequential-indexed.json',
      'sequential-rides.json',
      'sequential.json',
      'unhandled-failure.json',
    ]);
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    await replayHistory({ workflowBundle: { codePath: inject('bundlePath') } }, load(file), idOf(file));
  });

  it('retries Temporal ran leave one activity per item and no timers (items-and-retry, recorded after closeloop.temporal-retries)', () => {
    const count = (f: string, attr: string) => load(f).events.filter((e) => e[attr]).length;
    expect(count('items-and-retry.json', 'timerStartedEventAttributes')).toBe(4);
    expect(count('items-and-retry-temporal-retries.json', 'timerStartedEventAttributes')).toBe(0);
    const attempts = load('items-and-retry-temporal-retries.json')
      .events.filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes.attempt);
    expect(attempts).toEqual([2, 2, 2, 2, 1]);
  });

  it('audit rows that ride on task activities leave no local activity per task (items-and-retry, recorded after closeloop.audit-rides)', () => {
    const markers = (f: string) => load(f).events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;
    expect(markers('items-and-retry-temporal-retries.json')).toBe(4);
    expect(markers('items-and-retry-rides.json')).toBe(2); // the run's start and end bookkeeping
  });

  it.each([false, true])(
    'an altered history (a different activity where runAction was scheduled) fails replay (SDK payload walks kept: %s)',
    async (payloadWalks) => {
      const history = load('items-and-retry.json');
      const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runAction');
      expect(scheduled).toBeDefined();
      scheduled!.activityTaskScheduledEventAttributes.activityType.name = 'httpRequest';
      await expect(replayHistory({ workflowBundle: { codePath: inject('bundlePath') } }, history, 'run:replay:altered', { payloadWalks })).rejects.toThrow(
        DeterminismViolationError,
      );
    },
  );
});
