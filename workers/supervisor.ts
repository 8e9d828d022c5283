// The worker runs in a child process of `npm start` (and `npm run worker`): a workflow task that
// crashes Node takes only that process down, is restarted with backoff, and a run whose workflow
// task crashed it repeatedly is quarantined (docs/decisions.md "Isolation"). A workflow thread held
// longer than the workflow-task limit counts as a crash: the process is stopped, as the SDK's own
// per-call sandbox timeout would, without its cost (a watchdog thread per call into the sandbox).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ActivationReport } from './reporting-worker.js';
import type { Suspect } from './quarantine.js';

/** The worker process's Node options: TypeScript, and the workflow threads' preload (workers/workflow-thread-preload.cjs). */
export const WORKER_EXEC_ARGV = ['--require', fileURLToPath(new URL('./workflow-thread-preload.cjs', import.meta.url)), '--import', 'tsx'];

export interface SupervisorOptions {
  /** The worker process's entry (workers/worker-process.ts). */
  entry: string;
  env: NodeJS.ProcessEnv;
  /** Crashes with a run on a workflow thread after which that run is quarantined. */
  quarantineAfter?: number;
  /** Restart backoff: first delay, cap, and how long a process must live for the delay to reset (ms). */
  backoff?: { initialMs: number; maxMs: number; resetAfterMs: number };
  /** Stops a run that keeps crashing the worker (workers/quarantine.ts); returns what was done. */
  quarantine: (s: Suspect, crashes: number) => Promise<string>;
  /** A run on a workflow thread this long (ms) stops the worker process, as a crash (0 = never). */
  workflowTaskLimitMs?: number;
  /** Wires a newly forked process before it starts (the embedded database's IPC service). */
  attach?: (child: ChildProcess) => void;
  log?: (line: string) => void;
}

type ChildMessage = { type: 'ready' } | { type: 'activation'; report: ActivationReport } | { type: 'metrics:reply'; id: number; text: string };

export class WorkerSupervisor {
  private child: ChildProcess | undefined;
  private readonly inflight = new Map<string, Suspect & { since: number }>();
  private hangTimer: NodeJS.Timeout | undefined;
  private readonly crashes = new Map<string, number>();
  private stopping = false;
  private delayMs: number;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private metricsSeq = 0;
  private readonly metricsWaiters = new Map<number, (text: string) => void>();
  /** Worker processes started after the first (restarts after a crash or an exit). */
  restarts = 0;
  readonly quarantined: string[] = [];
  private readonly o: Required<Omit<SupervisorOptions, 'attach'>> & Pick<SupervisorOptions, 'attach'>;

  constructor(options: SupervisorOptions) {
    this.o = {
      quarantineAfter: 3,
      workflowTaskLimitMs: 10_000,
      backoff: { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 },
      log: (l) => console.log(l),
      ...options,
    };
    this.delayMs = this.o.backoff.initialMs;
  }

  /** Starts the worker process; resolves once it polls (rejects if the first one dies before). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.spawn(resolve, reject));
  }

  private spawn(ready?: () => void, failed?: (err: Error) => void): void {
    // the limit here replaces the sandbox's per-call timeout there (workers/reporting-worker.ts)
    const env = this.o.workflowTaskLimitMs && Number.isFinite(this.o.workflowTaskLimitMs) ? { ...this.o.env, CLOSELOOP_SANDBOX_TIMEOUT: 'off' } : this.o.env;
    const child = fork(this.o.entry, [], { execArgv: WORKER_EXEC_ARGV, env, serialization: 'advanced', stdio: 'inherit' });
    this.child = child;
    this.startedAt = Date.now();
    this.o.attach?.(child);
    child.on('message', (m: ChildMessage) => this.onMessage(m, ready));
    this.watchThreads(child);
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (failed && !this.isReady) return failed(new Error(`the worker process exited before it was ready (${signal ?? `exit code ${code}`})`));
      void this.onExit(code, signal);
    });
  }

  private isReady = false;

  private onMessage(m: ChildMessage, ready?: () => void): void {
    if (m.type === 'ready') {
      this.isReady = true;
      ready?.();
    } else if (m.type === 'activation') {
      const r = m.report;
      if (r.phase === 'start') this.inflight.set(r.runId, { runId: r.runId, workflowId: r.workflowId, workflowType: r.workflowType, since: Date.now() });
      else this.inflight.delete(r.runId);
    } else if (m.type === 'metrics:reply') {
      this.metricsWaiters.get(m.id)?.(m.text);
      this.metricsWaiters.delete(m.id);
    }
  }

  /** Stops the worker process when a run holds a workflow thread past the limit; its runs become suspects. */
  private watchThreads(child: ChildProcess): void {
    const limit = this.o.workflowTaskLimitMs;
    if (!limit || !Number.isFinite(limit)) return;
    clearInterval(this.hangTimer);
    this.hangTimer = setInterval(
      () => {
        if (this.child !== child) return clearInterval(this.hangTimer);
        const held = [...this.inflight.values()].find((s) => Date.now() - s.since > limit);
        if (!held) return;
        this.o.log(
          `closeloop: run ${held.workflowId} has held a workflow thread for over ${limit / 1000} s (the workflow-task limit): stopping the worker process`,
        );
        clearInterval(this.hangTimer);
        child.kill('SIGKILL');
      },
      Math.min(1000, limit / 4),
    );
    this.hangTimer.unref();
  }

  private async onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    clearInterval(this.hangTimer);
    const suspects = [...this.inflight.values()].map(({ since: _since, ...s }) => s);
    this.inflight.clear();
    for (const w of this.metricsWaiters.values()) w('');
    this.metricsWaiters.clear();
    if (this.stopping) return;
    const how = signal ?? `exit code ${code}`;
    this.o.log(
      `closeloop: the worker process stopped (${how})${suspects.length ? `; runs on a workflow thread: ${suspects.map((s) => s.workflowId).join(', ')}` : ''}`,
    );
    for (const s of suspects) {
      const n = (this.crashes.get(s.runId) ?? 0) + 1;
      this.crashes.set(s.runId, n);
      if (n < this.o.quarantineAfter) continue;
      this.crashes.delete(s.runId);
      try {
        const done = await this.o.quarantine(s, n);
        this.quarantined.push(s.workflowId);
        this.o.log(`closeloop: quarantined ${done}`);
      } catch (err) {
        this.o.log(`closeloop: could not quarantine ${s.workflowId} (it stays a suspect): ${(err as Error).message}`);
        this.crashes.set(s.runId, n - 1);
      }
    }
    if (Date.now() - this.startedAt > this.o.backoff.resetAfterMs) this.delayMs = this.o.backoff.initialMs;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.o.backoff.maxMs, this.delayMs * 2);
    this.o.log(`closeloop: restarting the worker process in ${(delay / 1000).toFixed(1)} s`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.isReady = false;
      this.spawn();
    }, delay);
  }

  /** The worker process's own metrics (Prometheus text), or '' when it does not answer within 2 s. */
  metrics(): Promise<string> {
    const child = this.child;
    if (!child?.connected) return Promise.resolve('');
    const id = ++this.metricsSeq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.metricsWaiters.delete(id);
        resolve('');
      }, 2000);
      this.metricsWaiters.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      child.send({ type: 'metrics', id }, (err) => err && resolve(''));
    });
  }

  /** Asks the worker process to reload its configuration (SIGHUP). */
  reload(): void {
    if (this.child?.connected) this.child.send({ type: 'reload' });
  }

  /** Lets the worker finish its current tasks and exit; SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true;
    clearInterval(this.hangTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'shutdown' });
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
