// Helpers of `npm run bench:events`: the strategy library it matches against, its child processes
// (API, worker, load generator), memory sampling, percentiles and the lost/duplicated check.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
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
export async function spawnTs(
  script: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  execArgv = ['--import', 'tsx'],
): Promise<{ child: ChildProcess; line: string }> {
  // BENCH_PROFILE=<dir>: a V8 CPU profile of each bench process, written there when it exits
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, ...execArgv, join(PROJECT_ROOT, 'bench', script)], {
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

/** The load generators' CPU priority: with --intake-nice, the producers too stand for machines of their own. */
export const generators = { nice: 0 };

/**
 * Signed events for `seconds` from their own process (bench/load-generator.mjs): open-loop at
 * `rate`/s; or, with `closed`, as fast as they are answered while fewer than `window` accepted
 * events are not yet completed runs (`completed` is polled every `everyMs` and passed on).
 */
export async function generate(
  base: string,
  tenant: string,
  secret: string,
  rate: number,
  seconds: number,
  dupShare: number,
  closed?: { window: number; everyMs: number; completed: () => Promise<number> },
): Promise<LoadResult> {
  const args = [base, tenant, secret, String(rate), String(seconds), String(TYPES), String(dupShare), ...(closed ? [String(closed.window)] : [])];
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bench', 'load-generator.mjs'), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  if (generators.nice) setPriority(child.pid!, generators.nice);
  // the generator closes its stdin once it stops sending: a count written after that is not needed
  child.stdin!.on('error', () => {});
  const feed = closed && setInterval(() => void closed.completed().then((n) => child.stdin!.writable && child.stdin!.write(`${n}\n`)), closed.everyMs);
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (feed) clearInterval(feed);
  child.stdin!.end();
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as LoadResult;
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

/** CPU time (ms) of every process on the machine by role, from /proc: the bench's own processes by pid, the rest by name. */
function cpuByRole(roles: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const byPid = new Map(Object.entries(roles).map(([name, pid]) => [pid, name]));
  const tick = 10; // ms per clock tick (USER_HZ 100 on Linux)
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(f[11]) + Number(f[12])) * tick;
      let role = byPid.get(Number(entry));
      if (!role) {
        const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        role = cmd.includes('load-generator')
          ? 'load generator'
          : comm === 'temporal'
            ? 'temporal server'
            : comm.startsWith('postgres')
              ? 'postgresql'
              : 'other';
      }
      out[role] = (out[role] ?? 0) + ms;
    } catch {
      // the process has exited
    }
  }
  return out;
}

/** CPU ms per unit of work of each role between `start()` and `per(n)`: what one run costs each process. */
export function cpuMeter(roles: Record<string, number>) {
  let before: Record<string, number> = {};
  return {
    start: () => void (before = cpuByRole(roles)),
    per: (n: number) => {
      const after = cpuByRole(roles);
      return Object.fromEntries(
        Object.entries(after)
          .map(([k, v]) => [k, +((v - (before[k] ?? 0)) / Math.max(1, n)).toFixed(2)] as const)
          .filter(([, v]) => v > 0.05),
      );
    },
  };
}
