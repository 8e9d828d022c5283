// Helpers of `npm run bench:events`: the strategy library it matches against, its child processes
// (API, worker, load generator), memory sampling, percentiles and the lost/duplicated check.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { withDefaults, type Strategy } from '../dsl/strategy.js';
import { PROJECT_ROOT } from '../workers/settings.js';

export const TYPES = 100;
export const STRATEGIES = 1000;

export const pct = (xs: number[], p: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(1);
};
export const percentiles = (xs: number[], ps: number[]) => Object.fromEntries(ps.map((p) => [`p${p}`, pct(xs, p)]));

/** 10 strategies per type: decreasing priority, conditions on the payload, a few wildcards; exactly one matches each event first. */
export function library(run: string, tenants: string[]): Strategy[] {
  const out: Strategy[] = [];
  for (let i = 0; i < STRATEGIES; i++) {
    const type = i % TYPES;
    const rank = Math.floor(i / TYPES); // 0..9
    out.push(
      withDefaults({
        id: `bench-${run}.s${i}`,
        status: 'active',
        on: rank === 9 ? `bench.*.done` : `bench.type${type}.done`,
        tenants,
        // ranks 0..7 need amount above a threshold no event reaches, so matching walks past them
        when:
          rank < 8
            ? [`{{ event.payload.amount > ${100 + rank} }}`, "{{ event.payload.region in ['eu', 'us', 'ap'] }}"]
            : ["{{ event.payload.region in ['eu', 'us', 'ap'] }}"],
        priority: 100 - rank * 10,
        weight: 50,
        workflow: 'bench.on_event@1.0.0',
        parameters: { seq: '{{ event.payload.seq }}', region: '{{ event.payload.region }}' },
      }),
    );
  }
  return out;
}

/** A bench process (tsx), resolved once it prints its ready line. */
export async function spawnTs(script: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  // BENCH_PROFILE=<dir>: a V8 CPU profile of each bench process, written there when it exits
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', join(PROJECT_ROOT, 'bench', script)], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => (ready.test(l) ? resolve(l) : console.error(`[${script}] ${l}`)));
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
  });
  return { child, line };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** Highest resident memory seen per process, sampled every 250 ms from /proc. */
export function sampleMemory(pids: Record<string, number>) {
  const max: Record<string, number> = {};
  const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const timer = setInterval(() => {
    for (const [name, pid] of Object.entries(pids)) {
      try {
        max[name] = Math.max(max[name] ?? 0, Math.round(rss(pid)));
      } catch {
        // the process has exited
      }
    }
  }, 250);
  return { stop: () => (clearInterval(timer), max) };
}

export interface LoadResult {
  sent: number;
  unique: number;
  send_window_ms: number;
  done_ms: number;
  results: { at: number; ms: number; http: number; status: string; dup: boolean; key: string }[];
}

/** Open-loop signed events at `rate`/s for `seconds` from its own process (bench/load-generator.mjs). */
export async function generate(base: string, tenant: string, secret: string, rate: number, seconds: number, dupShare: number): Promise<LoadResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(PROJECT_ROOT, 'bench', 'load-generator.mjs'), base, tenant, secret, String(rate), String(seconds), String(TYPES), String(dupShare)],
    { maxBuffer: 1 << 28 },
  );
  return JSON.parse(stdout) as LoadResult;
}

/** Lost: acknowledged (202) yet no run for its key; duplicated: a key with more than one run. */
export async function runsCheck(client: Client, tenant: string, load: LoadResult) {
  const runIds = new Map<string, number>();
  let historyEvents = 0;
  for await (const w of client.workflow.list({ query: `CloseloopTenant = '${tenant}'` })) {
    historyEvents = Math.max(historyEvents, w.historyLength);
    runIds.set(w.workflowId, (runIds.get(w.workflowId) ?? 0) + 1);
  }
  const acked = new Set(load.results.filter((r) => r.http === 202 && r.status !== 'unmatched').map((r) => r.key));
  return {
    acknowledged: acked.size,
    runs: runIds.size,
    lost: [...acked].filter((k) => !runIds.has(`run:${tenant}:${k}`)).length,
    duplicated: [...runIds.values()].filter((n) => n > 1).length,
    historyEvents,
  };
}
