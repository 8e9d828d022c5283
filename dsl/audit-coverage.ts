/**
 * Audit completeness: every fact the Temporal history records about a run (its start and end, each
 * action attempt, nested run, inquiry answer, pause/resume, the closure and its remediations) must
 * have its audit row. Pure: the API hands in facts read from the history and the audit rows.
 */
export interface HistoryFact {
  /** which history: the run or its closure */
  source: 'run' | 'closure';
  event_id: number;
  kind: 'started' | 'ended' | 'activity' | 'child' | 'signal' | 'update';
  /** activity type, child workflow type, signal or update name */
  name?: string;
  /** the DSL task, from the event's summary */
  task?: string;
  /** an activity's Temporal attempt that answered (from its started event) */
  attempt?: number;
}
export interface AuditFact {
  source: 'run' | 'closure';
  kind: string;
  task: string | null;
  detail: Record<string, unknown>;
}
export interface Coverage {
  coverage: number;
  checked: number;
  missing: { source: string; event_id: number; kind: string; name?: string; task?: string; expected: string }[];
}

/** Activities that perform an action attempt (bookkeeping and polling are part of an attempt, not one). */
export const ACTION_ACTIVITIES = new Set(['httpRequest', 'runAction', 'callPlugin', 'notify']);

/** The DSL task a summary names: `deploy [item 3/10] (attempt 2)` → deploy; `closure: resend-1 notify` → notify. */
export function taskOfSummary(summary: string | undefined): string | undefined {
  if (!summary) return undefined;
  const closure = /^closure: \S+ (.+)$/.exec(summary);
  const s = closure ? closure[1]! : summary;
  return (
    s
      .replace(/ \[item \d+\/\d+\]/, '')
      .replace(/ \(attempt \d+\)$/, '')
      .replace(/: .*$/, '')
      .trim() || undefined
  );
}

/** The Temporal attempt an audited task attempt ran as. */
const temporalAttemptOf = (r: AuditFact): number =>
  typeof r.detail.temporal_attempt === 'number' ? r.detail.temporal_attempt : r.detail.retried_by === 'temporal' ? Number(r.detail.attempt) : 1;

export function auditCoverage(facts: HistoryFact[], rows: AuditFact[]): Coverage {
  const missing: Coverage['missing'] = [];
  const count = (source: string, pred: (r: AuditFact) => boolean) => rows.filter((r) => r.source === source && pred(r)).length;
  // pools of audit rows that history facts draw from, so two facts cannot share one row
  const pools = new Map<string, number>();
  const take = (key: string, available: () => number): boolean => {
    if (!pools.has(key)) pools.set(key, available());
    const left = pools.get(key)!;
    if (left <= 0) return false;
    pools.set(key, left - 1);
    return true;
  };
  let checked = 0;
  for (const f of facts) {
    let ok = true;
    let expected = '';
    if (f.kind === 'started') {
      expected = f.source === 'run' ? 'run.started' : 'closure.started';
      ok = count(f.source, (r) => r.kind === expected || (r.kind === 'var.set' && r.detail.name === 'continued_as_new')) > 0;
    } else if (f.kind === 'ended') {
      expected = f.source === 'run' ? 'run.completed' : 'closure.verdict';
      ok = count(f.source, (r) => r.kind === expected) > 0;
    } else if (f.kind === 'activity') {
      if (!ACTION_ACTIVITIES.has(f.name ?? '')) continue;
      if (f.source === 'closure') {
        // the reconciliation action (summary `closure: reconcile (<action>)`) is graded in a check; anything else is a remediation
        const reconciling = f.task?.startsWith('(') ?? false;
        expected = reconciling ? 'closure.check of the reconciliation' : `closure.remediation for '${f.task}'`;
        ok = take(`closure:${f.task}`, () =>
          count('closure', (r) =>
            reconciling ? r.kind === 'closure.check' && r.detail.kind === 'reconciliation' : r.kind === 'closure.remediation' && r.task === f.task,
          ),
        );
      } else {
        expected = `task.attempt for '${f.task}'`;
        ok = take(`attempt:${f.task}`, () => count('run', (r) => r.kind === 'task.attempt' && r.task === f.task));
        const n = f.attempt ?? 1;
        if (n > 1) {
          // an activity Temporal ran again (a lost worker, or a DSL retry it ran) is audited with that attempt number
          expected = `task.attempt for '${f.task}' at Temporal attempt ${n}`;
          ok = take(`attempt:${f.task}:${n}`, () => count('run', (r) => r.kind === 'task.attempt' && r.task === f.task && temporalAttemptOf(r) === n)) && ok;
        }
      }
    } else if (f.kind === 'child') {
      if (f.name === 'closure') {
        expected = "var.set 'closure'";
        ok = count('run', (r) => r.kind === 'var.set' && r.detail.name === 'closure') > 0;
      } else {
        expected = `task.started for '${f.task}'`;
        ok = count(f.source, (r) => r.kind === 'task.started' && r.task === f.task) > 0;
      }
    } else if ((f.kind === 'signal' || f.kind === 'update') && f.name === 'inquiry.respond') {
      expected = 'inquiry.responded or inquiry.rejected';
      ok = take(`inquiry:${f.source}`, () => count(f.source, (r) => r.kind === 'inquiry.responded' || r.kind === 'inquiry.rejected'));
    } else if (f.kind === 'signal' && (f.name === 'pause' || f.name === 'resume')) {
      expected = `var.set 'paused' = ${f.name === 'pause'}`;
      ok = take(`${f.source}:${f.name}`, () =>
        count(f.source, (r) => r.kind === 'var.set' && r.detail.name === 'paused' && r.detail.value === (f.name === 'pause')),
      );
    } else continue; // callbacks and verdict signals feed an attempt or the closure, which are checked themselves
    checked++;
    if (!ok)
      missing.push({
        source: f.source,
        event_id: f.event_id,
        kind: f.kind,
        ...(f.name ? { name: f.name } : {}),
        ...(f.task ? { task: f.task } : {}),
        expected,
      });
  }
  return { coverage: checked ? (checked - missing.length) / checked : 1, checked, missing };
}
