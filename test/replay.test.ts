import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { replayHistory } from '../workers/replay.js';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, type ReplayResult } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
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
    // *-indexed: recorded after the closeloop.index-with-audit patch (the others keep the older path replaying);
    // *-features: runs that carry the current features in their input (contracts/features.ts), no patch markers
    expect(files.sort()).toEqual([
      'closure-run.json',
      'closure.json',
      'continue-as-new-indexed.json',
      'continue-as-new.json',
      'incident.json',
      'inquiry-indexed.json',
      'inquiry.json',
      'items-and-retry-features.json',
      'items-and-retry-rides.json',
      'items-and-retry-temporal-retries.json',
      'items-and-retry.json',
      'nested-and-shards-features.json',
      'nested-and-shards.json',
      'next-and-decision.json',
      'pacing.json',
      'parallel-join.json',
      'routes-and-joins-features.json',
      'routes-and-joins.json',
      'sequential-features.json',
      'sequential-indexed.json',
      'sequential-rides.json',
      'sequential.json',
      'unhandled-failure.json',
      'unreachable-join.json',
    ]);
  });

  it('the histories recorded after the conductor carry its patches: pacing, unreachable joins', () => {
    const patches = (f: string) =>
      load(f)
        .events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
        .map((e) => Buffer.from(e.markerRecordedEventAttributes.details['patch-data'].payloads[0].data, 'base64').toString());
    expect(patches('pacing.json').some((p) => p.includes('closeloop.pacing'))).toBe(true);
    expect(patches('unreachable-join.json').some((p) => p.includes('closeloop.unreachable-joins'))).toBe(true);
    expect(load('unreachable-join.json').events.at(-1)!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
  });

  // through the SDK's public replayer, as CI and `closeloop replay` do
  const results = new Map<string, ReplayResult>();
  beforeAll(async () => {
    const histories = files.map((f) => ({ workflowId: idOf(f), history: load(f) }));
    for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: inject('bundlePath') } }, histories)) results.set(r.workflowId, r);
  }, 120_000);

  it.each(files)('%s replays without non-determinism', (file) => {
    const r = results.get(idOf(file));
    expect(r).toBeDefined();
    expect(r!.error?.message).toBeUndefined();
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

  const altered = () => {
    const history = load('items-and-retry.json');
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runAction');
    expect(scheduled).toBeDefined();
    scheduled!.activityTaskScheduledEventAttributes.activityType.name = 'httpRequest';
    return history;
  };

  it('an altered history (a different activity where runAction was scheduled) fails replay', async () => {
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: inject('bundlePath') } }, altered(), 'run:replay:altered')).rejects.toThrow(
      DeterminismViolationError,
    );
  });

  it.each([false, true])("the benchmark's faster replayer catches the same alteration (SDK payload walks kept: %s)", async (payloadWalks) => {
    await expect(replayHistory({ workflowBundle: { codePath: inject('bundlePath') } }, altered(), 'run:replay:altered', { payloadWalks })).rejects.toThrow(
      DeterminismViolationError,
    );
  });
  it('histories of runs that carry their features record no patch marker (contracts/features.ts)', () => {
    for (const f of files.filter((x) => x.endsWith('-features.json'))) {
      const markers = load(f).events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
      expect(markers, f).toHaveLength(0);
    }
  });
});
