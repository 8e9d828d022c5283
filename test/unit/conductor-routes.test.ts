// Routes and joins (dsl.md "Joins and routes", Orquesta's semantics), on workflows written for these tests.
import { describe, expect, it } from 'vitest';
import { Conductor } from '../../conductor/conductor.js';
import { conduct } from './conduct.js';

const head = (ref: string) => `ref: unit.${ref}\nversion: 1.0.0\n`;
const ok = 'action: x.do';

// a fans out to b and c; both lead to d, which is no join: d splits the flow, one route per arrival
const SPLIT = `${head('split')}tasks:
  - name: a
    ${ok}
    next: [ { when: "{{ succeeded() }}", do: "b, c" } ]
  - name: b
    ${ok}
    next: [ { when: "{{ succeeded() }}", do: d } ]
  - name: c
    ${ok}
    next: [ { when: "{{ succeeded() }}", do: d } ]
  - name: d
    ${ok}
    next:
      - when: "{{ succeeded() }}"
        do: [e, f]
      - when: "{{ failed() }}"
        do: recover
  - name: e
    ${ok}
    next: [ { do: g } ]
  - name: f
    ${ok}
    next: [ { do: g } ]
  - name: g
    ${ok}
    join: all
  - name: recover
    ${ok}
`;

describe('conductor: routes', () => {
  it('a task several transitions reach splits the flow; a later join: all joins within each route', () => {
    const r = conduct(SPLIT);
    expect(r.routes).toEqual([[], ['b__t0'], ['c__t0']]);
    expect(r.sequence).toEqual(['a@0', 'b@0', 'c@0', 'd@1', 'd@2', 'e@1', 'e@2', 'f@1', 'f@2', 'g@1', 'g@2']);
    expect(r.conductor.summaries.get('g')).toMatchObject({ runs: 2, status: 'succeeded' });
  });

  it("each run of a split task evaluates its transitions against its own outcome, not the other run's", () => {
    // both runs of d are running together; the one on route 2 fails
    const r = conduct(SPLIT, { mocks: { d: (_n, route) => (route === 2 ? { status: 'failed' } : {}) } });
    expect(r.sequence).toEqual(['a@0', 'b@0', 'c@0', 'd@1', 'd@2', 'e@1', 'f@1', 'recover@2', 'g@1']);
    const fromD = r.audit.filter((a) => a.kind === 'transition' && a.task === 'd').map((a) => [a.detail.via, a.detail.route]);
    expect(fromD).toEqual([
      ['next[0]', 1],
      ['next[1]', 2],
    ]);
    expect(r.status).toBe('succeeded');
  });

  it('routes nest: a split inside a route extends that route', () => {
    const r = conduct(`${head('nested')}tasks:
  - name: a
    ${ok}
    on_success: [b, c]
  - name: b
    ${ok}
    on_success: d
  - name: c
    ${ok}
    on_success: d
  - name: d
    ${ok}
    on_success: [e, f]
  - name: e
    ${ok}
    on_success: h
  - name: f
    ${ok}
    on_success: h
  - name: h
    ${ok}
`);
    expect(r.routes).toEqual([[], ['b__t0'], ['c__t0'], ['b__t0', 'e__t0'], ['c__t0', 'e__t0'], ['b__t0', 'f__t0'], ['c__t0', 'f__t0']]);
    expect(r.sequence.filter((s) => s.startsWith('h@'))).toEqual(['h@3', 'h@4', 'h@5', 'h@6']);
  });

  it('two transitions of one task into a task that is not a join run it twice, on two routes', () => {
    const r = conduct(`${head('dup_split')}tasks:
  - name: a
    ${ok}
    next:
      - when: "{{ succeeded() }}"
        do: b
      - do: b
  - name: b
    ${ok}
`);
    expect(r.sequence).toEqual(['a@0', 'b@1', 'b@2']);
    expect(r.routes).toEqual([[], ['a__t0'], ['a__t1']]);
  });
});

describe('conductor: joins', () => {
  const JOIN = (join: string, extra = '') => `${head('join')}tasks:
  - name: a
    ${ok}
    on_success: [b, c, d]
  - name: b
    ${ok}
    on_success: j
  - name: c
    ${ok}
    on_success: j
  - name: d
    ${ok}
    on_success: j
  - name: j
    ${ok}
    join: ${join}
${extra}`;

  it('join: all waits for every upstream task and runs once', () => {
    const r = conduct(JOIN('all'));
    expect(r.sequence).toEqual(['a@0', 'b@0', 'c@0', 'd@0', 'j@0']);
    const started = r.audit.find((x) => x.kind === 'task.started' && x.task === 'j')!;
    expect(started.detail.via).toEqual(['b', 'c', 'd']);
  });

  it('join: N runs once N upstream tasks arrived, and the latecomers start nothing more', () => {
    const two = conduct(JOIN('2'));
    expect(two.sequence).toEqual(['a@0', 'b@0', 'c@0', 'd@0', 'j@0']);
    expect(two.audit.find((x) => x.kind === 'task.started' && x.task === 'j')!.detail.via).toEqual(['b', 'c', 'd']);
    // a branch that arrives after the join started belongs to the round it ran for: nothing more, no error
    const late = conduct(JOIN('2').replace('on_success: [b, c, d]', 'on_success: [b, c, slow]') + '  - name: slow\n    action: x.do\n    on_success: d\n');
    expect(late.sequence).toEqual(['a@0', 'b@0', 'c@0', 'slow@0', 'd@0', 'j@0']);
    expect(late.status).toBe('succeeded');
    expect(late.conductor.summaries.get('j')!.runs).toBe(1);
    // one branch fails (handled by the engine command noop): the other two still satisfy join: 2
    const handled = conduct(
      JOIN('2').replace('  - name: b\n    action: x.do\n    on_success: j', '  - name: b\n    action: x.do\n    on_success: j\n    on_failure: noop'),
      {
        mocks: { b: { status: 'failed' } },
      },
    );
    expect(handled.sequence).toEqual(['a@0', 'b@0', 'c@0', 'd@0', 'j@0']);
    expect(handled.status).toBe('succeeded');
    // an unhandled failure stops the run: nothing new starts, the join included
    const unhandled = conduct(JOIN('2'), { mocks: { b: { status: 'failed' } } });
    expect(unhandled.sequence).toEqual(['a@0', 'b@0', 'c@0', 'd@0']);
    expect(unhandled.failure?.task).toBe('b');
  });

  it('a join fires once however many matching entries of one upstream task lead to it', () => {
    const r = conduct(`${head('dup_join')}tasks:
  - name: a
    ${ok}
    next:
      - when: "{{ succeeded() }}"
        do: j
      - do: j
  - name: b
    ${ok}
    on_success: j
  - name: j
    ${ok}
    join: all
`);
    expect(r.sequence).toEqual(['a@0', 'b@0', 'j@0']);
    expect(r.status).toBe('succeeded');
  });

  it('joins on failure and on completion arrive when their own transition fires', () => {
    const wf = (how: string) => `${head('join_outcomes')}tasks:
  - name: a
    ${ok}
    ${how}: j
  - name: b
    ${ok}
    on_success: j
  - name: j
    ${ok}
    join: all
`;
    expect(conduct(wf('on_failure'), { mocks: { a: { status: 'failed' } } }).sequence).toEqual(['a@0', 'b@0', 'j@0']);
    expect(conduct(wf('on_complete'), { mocks: { a: { status: 'failed' } } }).sequence).toEqual(['a@0', 'b@0', 'j@0']);
    expect(conduct(wf('on_complete')).sequence).toEqual(['a@0', 'b@0', 'j@0']);
  });

  it('a join that can no longer be satisfied fails the run, naming the join and the branches that cannot arrive', () => {
    const r = conduct(JOIN('all'), { mocks: { c: { status: 'failed' } } });
    expect(r.status).toBe('failed');
    // c's own failure came first; its unhandled failure is what the run reports
    expect(r.failure!.task).toBe('c');
    const handled = conduct(
      JOIN('all', '  - name: cleanup\n    action: x.do\n').replace(
        '  - name: c\n    action: x.do\n    on_success: j',
        '  - name: c\n    action: x.do\n    on_success: j\n    on_failure: cleanup',
      ),
      {
        mocks: { c: { status: 'failed' } },
      },
    );
    expect(handled.status).toBe('failed');
    expect(handled.failure).toEqual({
      task: 'j',
      error: {
        type: 'UnreachableJoin',
        message: "join 'j' can never run: it waits for all of 'b', 'c', 'd'; 'b', 'd' arrived, 'c' ended without a transition into it",
      },
    });
    expect(handled.sequence).toEqual(['a@0', 'b@0', 'c@0', 'd@0', 'cleanup@0']);
  });

  it('runs recorded before the rule settled such a join (join: all runs) or left it waiting', () => {
    const wf = JOIN('all', '  - name: cleanup\n    action: x.do\n').replace(
      '    on_success: j\n  - name: d',
      '    on_success: j\n    on_failure: cleanup\n  - name: d',
    );
    const mocks = { c: { status: 'failed' as const } };
    const settled = conduct(wf, { mocks, policy: 'settle' });
    expect(settled.status).toBe('succeeded');
    expect(settled.sequence).toContain('j@0');
    const waited = conduct(wf, { mocks, policy: 'wait' });
    expect(waited.status).toBe('succeeded');
    expect(waited.sequence).not.toContain('j@0');
  });

  it('a join inside a cycle resets after it runs: each round waits for both branches of that round', () => {
    const r = conduct(`${head('cycle_join')}vars: { round: 0 }
tasks:
  - name: start
    ${ok}
    on_success: fan
  - name: fan
    ${ok}
    on_success: [left, right]
  - name: left
    ${ok}
    on_success: meet
  - name: right
    ${ok}
    on_success: meet
  - name: meet
    ${ok}
    join: all
    next:
      - when: "{{ vars.round < 2 }}"
        publish: [ { round: "{{ vars.round + 1 }}" } ]
        do: fan
`);
    expect(r.sequence).toEqual(['start@0', ...Array(3).fill(['fan@0', 'left@0', 'right@0', 'meet@0']).flat()]);
    expect(r.status).toBe('succeeded');
    expect(r.routes).toEqual([[]]); // tasks in a cycle never split the flow
  });

  it('a parallel block runs its sub-tasks on its own route; an unhandled sub-task failure fails the block once all end', () => {
    const wf = `${head('block')}tasks:
  - name: block
    type: parallel
    on_success: after
    on_failure: handle
    tasks:
      - name: p1
        ${ok}
        on_success: p3
      - name: p2
        ${ok}
        on_success: p3
      - name: p3
        ${ok}
        join: all
  - name: after
    ${ok}
  - name: handle
    ${ok}
`;
    const good = conduct(wf);
    expect(good.sequence).toEqual(['block@0', 'p1@0', 'p2@0', 'p3@0', 'after@0']);
    const bad = conduct(wf, { mocks: { p2: { status: 'failed', error: { type: 'X', message: 'p2 broke' } } } });
    expect(bad.sequence).toEqual(['block@0', 'p1@0', 'p2@0', 'handle@0']);
    expect(bad.conductor.summaries.get('block')).toMatchObject({ status: 'failed', error: { type: 'X', message: "sub-task 'p2': p2 broke" } });
    expect(bad.status).toBe('succeeded'); // the block's failure was handled by on_failure
  });
});

describe('conductor: state', () => {
  it('serialises mid-run and carries on from the copy exactly as the original would (continue-as-new)', () => {
    const full = conduct(SPLIT);
    const half = conduct(SPLIT, { maxWaves: 3 });
    const state = JSON.parse(JSON.stringify(half.conductor.serialize()));
    expect(state.runs.length).toBeGreaterThan(0);
    const c = new Conductor(half.conductor.graph.wf, half.conductor.ctx, { record: () => {}, now: () => 0 }, state);
    const rest: string[] = [];
    const ordered = () => c.takeStarts().sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : a.route - b.route));
    for (let starts = ordered(); starts.length; starts = ordered()) {
      const begun = starts.filter((s) => c.begin(s.seq));
      c.endBatch();
      for (const s of begun) {
        rest.push(`${s.task}@${s.route}`);
        c.complete(s.seq, { status: 'succeeded', result: null, error: null, attempts: 1 });
      }
    }
    expect([...half.sequence, ...rest]).toEqual(full.sequence);
  });
});
