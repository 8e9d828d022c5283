import { normaliseParameters } from './parameters.js';
import { formatPath, type PathPart, type YamlSource } from './source.js';
import { DEFAULT_WORKFLOW_LIMITS, ENGINE_COMMANDS, type CompiledTask, type CompiledWorkflow, type Diagnostic, type Limits, type Transition } from './types.js';
import { clampLimits, limitsAboveOperator } from './limits.js';

type RawTask = Record<string, unknown> & { name: string; tasks?: RawTask[] };
type RawWorkflow = Record<string, unknown> & { tasks: RawTask[] };

const LEGACY_KEYS = ['on_success', 'on_failure', 'on_complete', 'on_timeout', 'decision'] as const;

/** Two conditions that must both hold, as one template (`{{ a }}` and `{{ b }}` → `{{ (a) and (b) }}`). */
function bothWhen(a: unknown, b: unknown): string | undefined {
  if (a === undefined) return b === undefined ? undefined : String(b);
  if (b === undefined) return String(a);
  const inner = (w: unknown) => {
    const m = /^\s*\{\{(.*)\}\}\s*$/s.exec(String(w));
    return m && !m[1]!.includes('}}') ? m[1]!.trim() : JSON.stringify(String(w));
  };
  return `{{ (${inner(a)}) and (${inner(b)}) }}`;
}

function targets(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return [];
}

function publishEntries(v: unknown): [string, unknown][] {
  if (!v) return [];
  if (Array.isArray(v)) {
    return v.map((e): [string, unknown] => {
      if (typeof e === 'string') return [e, `{{ result() }}`];
      const [k, val] = Object.entries(e as Record<string, unknown>)[0]!;
      return [k, val];
    });
  }
  return Object.entries(v as Record<string, unknown>);
}

function varsOf(v: unknown): Record<string, unknown> {
  if (!v) return {};
  if (Array.isArray(v)) return Object.fromEntries(v.flatMap((e) => Object.entries(e as Record<string, unknown>)));
  return { ...(v as Record<string, unknown>) };
}

const LEGACY_ON: [string, Transition['on']][] = [
  ['on_success', 'succeeded'],
  ['on_failure', 'failed'],
  ['on_timeout', 'timed_out'],
  ['on_complete', 'completed'],
];

/** `on_success` and the other legacy keys: targets, or Attune's conditional list (one transition per entry, each that holds fires). */
function legacyTransitions(t: RawTask, path: PathPart[], at: (p: PathPart[]) => { line: number; col: number }): Transition[] {
  const transitions: Transition[] = [];
  for (const [key, on] of LEGACY_ON) {
    const v = t[key];
    if (v === undefined) continue;
    if (!Array.isArray(v) || !v.some((x) => typeof x === 'object')) {
      transitions.push({ on, publish: [], do: targets(v), ...at([...path, key]) });
      continue;
    }
    v.forEach((x: unknown, i) => {
      const entry = typeof x === 'object' && x ? (x as Record<string, unknown>) : { do: x };
      // a nested list of {when, next}: each goes to its `next` when both conditions hold
      const nested = Array.isArray(entry.do) && entry.do.some((d) => typeof d === 'object') ? (entry.do as Record<string, unknown>[]) : null;
      for (const branch of nested ?? [{ when: undefined, next: entry.do }]) {
        const when = bothWhen(entry.when, branch.when);
        transitions.push({
          on,
          ...(when !== undefined ? { when } : {}),
          publish: publishEntries(entry.publish),
          do: targets(branch.next),
          ...at([...path, key, i]),
        });
      }
    });
  }
  return transitions;
}

/** Normalises legacy and canonical transitions into one graph; reports graph problems. */
export function compileGraph(raw: RawWorkflow, src: YamlSource, out: Diagnostic[], operatorLimits: Limits = DEFAULT_WORKFLOW_LIMITS): CompiledWorkflow {
  const tasks: Record<string, CompiledTask> = {};
  const order: string[] = [];
  const err = (path: PathPart[], message: string, severity: Diagnostic['severity'] = 'error') => {
    const { line, col } = src.positionOf(path);
    out.push({ severity, line, col, message: `${formatPath(path)}: ${message}`, path: formatPath(path) });
  };

  const addTask = (t: RawTask, path: PathPart[], parent?: string) => {
    const { line, col } = src.positionOf(path);
    if (tasks[t.name]) err([...path, 'name'], `duplicate task name '${t.name}' (first defined at line ${tasks[t.name]!.line})`);
    if ((ENGINE_COMMANDS as readonly string[]).includes(t.name)) err([...path, 'name'], `'${t.name}' is an engine command and cannot be a task name`);
    const hasNext = t.next !== undefined;
    for (const k of [...LEGACY_KEYS, 'publish'] as const) {
      if (hasNext && t[k] !== undefined) err([...path, k], `'${k}' cannot be combined with 'next' on the same task: move it into a 'next' entry`);
    }
    const type = (t.type as CompiledTask['type'] | undefined) ?? (t.workflow ? 'workflow' : 'action');
    if (type === 'parallel' && !t.tasks) err(path, `a parallel task needs 'tasks'`);
    if (type !== 'parallel' && t.tasks) err([...path, 'tasks'], `'tasks' is only allowed on 'type: parallel'`);
    if (type !== 'parallel' && !t.action && !t.workflow) err(path, `task '${t.name}' needs an 'action'`);

    const transitions: Transition[] = [];
    const at = (p: PathPart[]) => src.positionOf(p);
    transitions.push(...legacyTransitions(t, path, at));
    if (Array.isArray(t.next)) {
      (t.next as Record<string, unknown>[]).forEach((n, i) => {
        transitions.push({
          on: 'any',
          ...(n.when !== undefined ? { when: String(n.when) } : {}),
          publish: publishEntries(n.publish),
          do: targets(n.do),
          ...at([...path, 'next', i]),
        });
      });
    }
    const decision = Array.isArray(t.decision)
      ? (t.decision as Record<string, unknown>[]).map((d) =>
          typeof d.default === 'string' ? { next: d.default } : d.default === true ? { next: String(d.next) } : { when: String(d.when), next: String(d.next) },
        )
      : undefined;

    const task: CompiledTask = {
      name: t.name,
      type,
      ...(t.action || t.workflow ? { action: String(t.action ?? t.workflow) } : {}),
      ...(t.input !== undefined ? { input: t.input } : {}),
      ...(t.when !== undefined ? { when: t.when as string | boolean } : {}),
      ...(t.with_items !== undefined ? { with_items: t.with_items as string | unknown[] } : {}),
      ...(typeof t.delay === 'number' && t.delay > 0 ? { delay: t.delay } : {}),
      ...(t.batch_size !== undefined ? { batch_size: t.batch_size as number } : {}),
      ...(t.concurrency !== undefined ? { concurrency: t.concurrency as number } : {}),
      ...(t.tolerated_failures !== undefined ? { tolerated_failures: t.tolerated_failures as number | string } : {}),
      ...(t.retry ? { retry: { delay: 0, backoff: 'constant', ...(t.retry as object) } as CompiledTask['retry'] } : {}),
      ...(t.timeout !== undefined ? { timeout: t.timeout as number } : {}),
      ...(t.join !== undefined ? { join: t.join as 'all' | number } : {}),
      publish: publishEntries(t.publish),
      transitions,
      ...(decision ? { decision } : {}),
      ...(t.tasks ? { subtasks: t.tasks.map((s) => s.name) } : {}),
      ...(parent ? { parent } : {}),
      inbound: [],
      line,
      col,
    };
    if (!tasks[t.name]) {
      tasks[t.name] = task;
      order.push(t.name);
    }
    t.tasks?.forEach((s, i) => addTask(s, [...path, 'tasks', i], t.name));
  };
  raw.tasks.forEach((t, i) => addTask(t, ['tasks', i]));

  // every target exists; record inbound edges
  const taskPath = (name: string): PathPart[] => {
    const find = (list: RawTask[], base: PathPart[]): PathPart[] | null => {
      for (const [i, t] of list.entries()) {
        if (t.name === name) return [...base, i];
        const inner = t.tasks ? find(t.tasks, [...base, i, 'tasks']) : null;
        if (inner) return inner;
      }
      return null;
    };
    return find(raw.tasks, ['tasks']) ?? ['tasks'];
  };
  for (const task of Object.values(tasks)) {
    const outs = [...task.transitions.flatMap((tr) => tr.do), ...(task.decision ?? []).map((d) => d.next)];
    for (const target of outs) {
      if ((ENGINE_COMMANDS as readonly string[]).includes(target)) continue;
      const dest = tasks[target];
      if (!dest) {
        const p = taskPath(task.name);
        const key = task.transitions.find((tr) => tr.do.includes(target));
        const pos = key ? { line: key.line, col: key.col } : src.positionOf(p);
        out.push({ severity: 'error', ...pos, message: `${formatPath(p)}: task '${task.name}' transitions to unknown task '${target}'`, path: formatPath(p) });
        continue;
      }
      if (dest.parent && dest.parent !== task.parent)
        err(taskPath(task.name), `task '${task.name}' cannot transition into '${target}', a sub-task of parallel block '${dest.parent}'`);
      if (!dest.inbound.includes(task.name)) dest.inbound.push(task.name);
    }
  }
  for (const task of Object.values(tasks)) {
    // transitions and decision branches of other tasks (a self-loop is a cycle, not a second arrival)
    const inbound = Object.values(tasks)
      .filter((s) => s.name !== task.name)
      .reduce((n, s) => n + s.transitions.filter((tr) => tr.do.includes(task.name)).length + (s.decision ?? []).filter((d) => d.next === task.name).length, 0);
    if (task.join === undefined && inbound > 1) {
      err(
        taskPath(task.name),
        `task '${task.name}' has ${inbound} inbound transitions and no 'join': each arrival runs it, on a route of its own (dsl.md "Joins and routes")`,
        'warning',
      );
    }
  }

  const topLevel = raw.tasks.map((t) => t.name);
  const entry = topLevel.filter((n) => tasks[n] && tasks[n]!.inbound.length === 0);
  if (entry.length === 0 && topLevel.length > 0) err(['tasks'], 'no entry task: every task is the target of a transition');

  // reachability from the entry tasks (parallel blocks reach their sub-tasks)
  const seen = new Set<string>();
  const stack = [...entry];
  while (stack.length) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const t = tasks[name];
    if (!t) continue;
    stack.push(...t.transitions.flatMap((tr) => tr.do), ...(t.decision ?? []).map((d) => d.next), ...(t.subtasks ?? []));
  }
  if (entry.length) for (const name of order) if (!seen.has(name)) err(taskPath(name), `task '${name}' can never be reached`);

  const fileLimits = (raw.limits as Partial<Limits> | undefined) ?? {};
  for (const { key, message } of limitsAboveOperator(fileLimits, operatorLimits)) err(['limits', key], message);
  const limits = clampLimits({ ...operatorLimits, ...fileLimits }, operatorLimits);
  if (order.length > limits.max_tasks) err(['tasks'], `${order.length} tasks exceed the limit of ${limits.max_tasks} (limits.max_tasks)`);
  for (const t of Object.values(tasks)) {
    const p = taskPath(t.name);
    if (Array.isArray(t.with_items) && t.with_items.length > limits.max_items)
      err([...p, 'with_items'], `${t.with_items.length} items exceed limits.max_items (${limits.max_items})`);
    if (t.concurrency !== undefined && t.concurrency > limits.max_parallel)
      err([...p, 'concurrency'], `concurrency ${t.concurrency} exceeds limits.max_parallel (${limits.max_parallel})`);
    if (t.batch_size !== undefined && t.batch_size > limits.max_parallel)
      err([...p, 'batch_size'], `batch_size ${t.batch_size} exceeds limits.max_parallel (${limits.max_parallel}): a batch runs at once`);
    if (t.with_items === undefined && (t.batch_size !== undefined || t.concurrency !== undefined || t.tolerated_failures !== undefined))
      err(p, `batch_size, concurrency and tolerated_failures only apply with 'with_items'`);
  }

  const { schema, secrets } = normaliseParameters(raw.parameters);
  return {
    ref: String(raw.ref),
    version: String(raw.version),
    ...(raw.label ? { label: String(raw.label) } : {}),
    parameters: schema,
    secretParameters: secrets,
    ...(raw.output ? { output: raw.output as Record<string, unknown> } : {}),
    vars: varsOf(raw.vars),
    ...(raw.output_map !== undefined ? { output_map: raw.output_map } : {}),
    ...(raw.timeout ? { timeout: raw.timeout as number } : {}),
    ...(raw.closure ? { closure: String(raw.closure) } : {}),
    cancellation_policy: (raw.cancellation_policy as CompiledWorkflow['cancellation_policy']) ?? 'allow_finish',
    limits,
    tasks,
    order,
    entry,
  };
}
