// The conductor, feature by feature: sequences, parallel entries, decisions, multi-match `next`,
// handled and unhandled failures, engine commands. No server: test/unit/conduct.ts drives it.
import { describe, expect, it } from 'vitest';
import { conduct } from './conduct.js';

const head = (ref: string) => `ref: unit.${ref}\nversion: 1.0.0\n`;

describe('conductor: flow', () => {
  it('runs a sequence in order and succeeds', () => {
    const r = conduct(`${head('seq')}tasks:
  - name: a
    action: x.do
    on_success: b
  - name: b
    action: x.do
    next: [ { do: c } ]
  - name: c
    action: x.do
`);
    expect(r.sequence).toEqual(['a@0', 'b@0', 'c@0']);
    expect(r.status).toBe('succeeded');
    expect(r.routes).toEqual([[]]);
  });

  it('starts every entry task at once', () => {
    const r = conduct(`${head('entries')}tasks:
  - name: b
    action: x.do
  - name: a
    action: x.do
  - name: c
    action: x.do
    on_success: d
  - name: d
    action: x.do
`);
    expect(r.sequence.slice(0, 3).sort()).toEqual(['a@0', 'b@0', 'c@0']);
    expect(r.sequence[3]).toBe('d@0');
  });

  it('a decision takes its first matching branch only; every matching `next` entry fires, publishing in order', () => {
    const r = conduct(
      `${head('decide')}vars: { trail: [] }
tasks:
  - name: pick
    action: x.do
    decision:
      - when: "{{ result().n > 1 }}"
        next: big
      - when: "{{ result().n > 0 }}"
        next: small
      - default: none
  - name: big
    action: x.do
    next:
      - when: "{{ succeeded() }}"
        publish: [ { trail: "{{ vars.trail + ['first'] }}" } ]
        do: after
      - publish: [ { trail: "{{ vars.trail + ['second'] }}" } ]
        do: other
      - when: "{{ failed() }}"
        do: never
  - name: small
    action: x.do
  - name: none
    action: x.do
  - name: after
    action: x.do
  - name: other
    action: x.do
  - name: never
    action: x.do
`,
      { mocks: { pick: { result: { n: 2 } } } },
    );
    expect(r.sequence).toEqual(['pick@0', 'big@0', 'after@0', 'other@0']);
    expect(r.vars.trail).toEqual(['first', 'second']);
    const transitions = r.audit.filter((a) => a.kind === 'transition' && a.task === 'big').map((a) => a.detail.via);
    expect(transitions).toEqual(['next[0]', 'next[1]']);
  });

  it("Attune's workflow.<var> reads and routes on the run's variables, as vars does", () => {
    const r = conduct(
      `${head('attune')}vars: { approved: false }
tasks:
  - name: ask
    action: x.do
    next:
      - publish: [ { approved: "{{ result().ok }}" } ]
        do: route
  - name: route
    action: x.do
    decision:
      - when: "{{ workflow.approved and vars.approved }}"
        next: ship
      - default: stop
  - name: ship
    action: x.do
  - name: stop
    action: x.do
`,
      { mocks: { ask: { result: { ok: true } } } },
    );
    expect(r.sequence).toEqual(['ask@0', 'route@0', 'ship@0']);
    expect(r.vars.approved).toBe(true);
  });

  it('a failure that a transition handles lets the run succeed; an unhandled one fails it and starts nothing more', () => {
    const handled = conduct(
      `${head('handled')}tasks:
  - name: a
    action: x.do
    on_failure: cleanup
  - name: cleanup
    action: x.do
`,
      { mocks: { a: { status: 'failed' } } },
    );
    expect(handled.status).toBe('succeeded');
    expect(handled.sequence).toEqual(['a@0', 'cleanup@0']);

    const unhandled = conduct(
      `${head('unhandled')}tasks:
  - name: a
    action: x.do
    on_success: b
  - name: b
    action: x.do
  - name: slow
    action: x.do
    on_success: later
  - name: later
    action: x.do
`,
      { mocks: { a: { status: 'failed', error: { type: 'Boom', message: 'no' } } } },
    );
    expect(unhandled.status).toBe('failed');
    expect(unhandled.failure).toEqual({ task: 'a', error: { type: 'Boom', message: 'no' } });
    expect(unhandled.sequence).toEqual(['a@0', 'slow@0']); // slow had started; what it leads to does not
  });

  it('a timeout fires on_timeout when there is one, and counts as a failure otherwise', () => {
    const wf = (onTimeout: string) => `${head('timeout')}tasks:
  - name: a
    action: x.do
    on_failure: failed_path
${onTimeout}  - name: failed_path
    action: x.do
  - name: timeout_path
    action: x.do
    when: "{{ false }}"
`;
    expect(conduct(wf(''), { mocks: { a: { status: 'timed_out' } } }).sequence).toEqual(['a@0', 'timeout_path@0', 'failed_path@0']);
    const timed = conduct(wf('    on_timeout: timeout_path\n'), { mocks: { a: { status: 'timed_out' } } });
    expect(timed.sequence).toEqual(['a@0', 'timeout_path@0']);
    expect(timed.status).toBe('succeeded');
  });

  it('the engine command fail fails the run on purpose; targets listed before it still start', () => {
    const r = conduct(`${head('fail')}tasks:
  - name: a
    action: x.do
    next:
      - do: [report, fail, never]
  - name: report
    action: x.do
  - name: never
    action: x.do
`);
    expect(r.status).toBe('failed');
    expect(r.failure!.error).toMatchObject({ type: 'Fail' });
    expect(r.sequence).toEqual(['a@0', 'report@0']);
  });

  it('completed() holds whatever the outcome; succeeded() and failed() follow it', () => {
    const wf = `${head('completed')}tasks:
  - name: a
    action: x.do
    next:
      - when: "{{ completed() }}"
        do: always
      - when: "{{ succeeded() }}"
        do: ok
      - when: "{{ failed() }}"
        do: bad
  - name: always
    action: x.do
  - name: ok
    action: x.do
  - name: bad
    action: x.do
`;
    expect(conduct(wf).sequence).toEqual(['a@0', 'always@0', 'ok@0']);
    expect(conduct(wf, { mocks: { a: { status: 'failed' } } }).sequence).toEqual(['a@0', 'always@0', 'bad@0']);
  });

  it('a skipped task (when: false) fires its on_complete and unconditional next entries only', () => {
    const r = conduct(`${head('skip')}tasks:
  - name: a
    action: x.do
    when: "{{ false }}"
    on_success: never
    on_complete: done
  - name: never
    action: x.do
  - name: done
    action: x.do
`);
    expect(r.sequence).toEqual(['a@0', 'done@0']);
    expect(r.conductor.summaries.get('a')!.status).toBe('skipped');
  });

  it('a template error in a transition fails the run, naming the task and the entry', () => {
    const r = conduct(`${head('bad_when')}tasks:
  - name: a
    action: x.do
    next:
      - when: "{{ result().missing.deeper }}"
        do: b
  - name: b
    action: x.do
`);
    expect(r.status).toBe('failed');
    expect(r.failure!.error.type).toBe('TemplateError');
    expect(r.failure!.error.message).toMatch(/^task 'a' next\[0\]\.when: 1:\d+: cannot read 'missing' of null/);
  });

  it('bounds cycles by limits.max_task_runs', () => {
    const r = conduct(`${head('cycle_limit')}limits: { max_task_runs: 3 }
tasks:
  - name: start
    action: x.do
    on_success: poll
  - name: poll
    action: x.do
    on_success: poll
`);
    expect(r.sequence).toEqual(['start@0', 'poll@0', 'poll@0', 'poll@0']);
    expect(r.failure).toEqual({ task: 'poll', error: { type: 'LimitError', message: "task 'poll' ran more than 3 times (limits.max_task_runs)" } });
  });

  it('a cycle ends when its condition says so; variables carry from one round to the next', () => {
    const r = conduct(`${head('loop')}vars: { n: 0 }
tasks:
  - name: start
    action: x.do
    on_success: poll
  - name: poll
    action: x.do
    next:
      - when: "{{ vars.n >= 4 }}"
        do: done
      - when: "{{ vars.n < 4 }}"
        publish: [ { n: "{{ vars.n + 1 }}" } ]
        do: poll
  - name: done
    action: x.do
`);
    expect(r.sequence).toEqual(['start@0', 'poll@0', 'poll@0', 'poll@0', 'poll@0', 'poll@0', 'done@0']);
    expect(r.vars.n).toBe(4);
  });

  it('stop() lets running runs end but starts nothing after them', () => {
    const r = conduct(`${head('stop')}tasks:
  - name: a
    action: x.do
    on_success: b
  - name: b
    action: x.do
`);
    expect(r.status).toBe('succeeded');
    const c = r.conductor;
    c.stage(['a']);
    const [run] = c.takeStarts();
    expect(c.begin(run!.seq)).not.toBeNull();
    c.stop();
    c.complete(run!.seq, { status: 'succeeded', result: null, error: null, attempts: 1 });
    expect(c.takeStarts()).toEqual([]);
    expect(c.busy()).toBe(false);
  });
});
