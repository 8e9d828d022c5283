// StackStorm Orquesta's native format read unchanged (dsl.md "Other dialects"): YAQL translation, the
// normalised graph, Orquesta's routing on the pure conductor, and what is refused with its position.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateWorkflow } from '../../dsl/validate.js';
import { yaqlToJinja } from '../../dsl/dialects/yaql.js';
import { convertText } from '../../dsl/dialects/orquesta-expr.js';
import { parseAssignments } from '../../dsl/dialects/orquesta.js';
import { conduct } from './conduct.js';

const validate = (yaml: string, ref = 'ops.example') => validateWorkflow(yaml, { isKnownAction: () => true, dialect: { ref } });
const errors = (yaml: string) => validate(yaml).diagnostics.filter((d) => d.severity === 'error');

describe('YAQL into Closeloop expressions', () => {
  it.each([
    [' succeeded() ', 'succeeded()'],
    ['ctx(name)', "ctx('name')"],
    ['$.count = 2 and not $.done', '((ctx().count == 2) and (not ctx().done))'],
    ['len($.hosts) >= 3 or $.force', '(((ctx().hosts | length) >= 3) or ctx().force)'],
    ['$.hosts.len()', '(ctx().hosts | length)'],
    ['not ctx().which in list(a, b)', "(not (ctx().which in ['a', 'b']))"],
    ["concat('v', str($.n))", "('v' ~ (ctx().n | string))"],
    ["st2kv('db.password', decrypt => true)", "kv.get_secret('db.password')"],
    ["task_status(deploy) = 'failed'", "(task_status('deploy') == 'failed')"],
    ['dict(a => 1, b => $.x)', "{'a': 1, 'b': ctx().x}"],
    ['$.n mod 2', '(ctx().n % 2)'],
  ])('%s', (yaql, jinja) => expect(yaqlToJinja(yaql)).toBe(jinja));

  it('refuses what it does not know, at the construct', () => {
    expect(() => yaqlToJinja('$.hosts.where($ > 1)')).toThrow(/YAQL function 'where' is not supported/);
    expect(() => yaqlToJinja('$x')).toThrow(/YAQL variable '\$x' is not supported/);
    expect(() => yaqlToJinja("'open")).toThrow(/unterminated string/);
  });

  it('rewrites mixed text, zip positions and Orquesta Jinja', () => {
    expect(convertText('<% ctx().a %>-<% result() %>')).toBe('{{ ctx().a }}-{{ result() }}');
    expect(convertText('<% item(host) %>:<% item(port) %>', { itemNames: ['host', 'port'] })).toBe('{{ item[0] }}:{{ item[1] }}');
    expect(convertText('<% item(host) %>', { itemNames: ['host'] })).toBe('{{ item }}');
    expect(convertText("{{ ctx('a') ~ item() }} {{ st2kv('k') }}")).toBe("{{ ctx('a') ~ item }} {{ kv.get('k') }}");
  });

  it('reads inline parameters and string publish', () => {
    expect(parseAssignments(' message="hello there" count=3 flag=true expr=<% ctx().x %>')).toEqual([
      ['message', 'hello there'],
      ['count', 3],
      ['flag', true],
      ['expr', '<% ctx().x %>'],
    ]);
    expect(parseAssignments('not an assignment')).toBeNull();
  });
});

const DEPLOY = `version: 1.0
description: Roll a release out to hosts, then announce it.
input:
  - release
  - hosts
  - channel: ops
vars:
  - rolled: []
output:
  - rolled: <% ctx().rolled %>
  - note: released <% ctx().release %>
tasks:
  prepare:
    action: core.echo message="preparing <% ctx().release %>"
    next:
      - when: <% succeeded() %>
        publish: stage=prepared
        do: roll, audit
  roll:
    with:
      items: host, port in <% zip(ctx(hosts), list(22, 2222)) %>
      concurrency: 2
    action: core.echo
    input:
      message: <% item(host) %>:<% item(port) %>
    retry:
      when: <% failed() %>
      count: 2
      delay: 1
    next:
      - when: <% succeeded() %>
        publish:
          - rolled: <% result() %>
        do: announce
      - when: <% failed() %>
        do: fail
  audit:
    delay: 5
    action: core.noop
    next:
      - do: announce
  announce:
    join: all
    next:
      - when: <% ctx().channel = 'ops' %>
        do: noop
`;

describe('an Orquesta workflow, normalised', () => {
  it('validates unchanged and means what Orquesta means', () => {
    const r = validate(DEPLOY);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.diagnostics[0]!.message).toMatch(/read as a StackStorm Orquesta workflow .*ref is 'ops.example'/);
    const wf = r.workflow!;
    expect(wf.ref).toBe('ops.example');
    expect(Object.keys(wf.tasks)).toEqual(['prepare', 'roll', 'audit', 'announce']);
    expect(wf.parameters.properties).toMatchObject({ release: {}, hosts: {}, channel: { default: 'ops' } });
    expect(wf.output_map).toEqual({ rolled: '{{ ctx().rolled }}', note: 'released {{ ctx().release }}' });
    const roll = wf.tasks.roll!;
    expect(roll).toMatchObject({
      action: 'core.echo',
      with_items: "{{ zip(ctx('hosts'), [22, 2222]) }}",
      concurrency: 2,
      input: { message: '{{ item[0] }}:{{ item[1] }}' },
      retry: { count: 2, delay: 1 },
    });
    expect(wf.tasks.prepare!.input).toEqual({ message: 'preparing {{ ctx().release }}' });
    expect(wf.tasks.prepare!.transitions[0]).toMatchObject({ do: ['roll', 'audit'], publish: [['stage', 'prepared']] });
    expect(wf.tasks.audit!.delay).toBe(5);
    expect(wf.tasks.announce).toMatchObject({ action: 'core.noop', join: 'all' });
  });

  it('routes as Orquesta: the join waits for both branches; a failure sent to fail fails the run', () => {
    const ok = conduct(DEPLOY, { parameters: { release: 'r1', hosts: ['a', 'b'], channel: 'ops' } });
    expect(ok.status).toBe('succeeded');
    expect(ok.sequence.map((s) => s.split('@')[0])).toEqual(['prepare', 'audit', 'roll', 'announce']);
    expect(ok.vars.stage).toBe('prepared');
    const bad = conduct(DEPLOY, { parameters: { release: 'r1', hosts: [] }, mocks: { roll: { status: 'failed' } } });
    expect(bad.status).toBe('failed');
    expect(bad.failure?.error.type).toBe('Fail');
  });

  it('noop handles a failure; continue publishes and ends the route but the run still fails', () => {
    const flow = (command: string) => `version: 1.0
vars:
  - message: null
tasks:
  work:
    action: core.noop
    next:
      - when: <% failed() %>
        publish: message=handled
        do: ${command}
`;
    const noop = conduct(flow('noop'), { mocks: { work: { status: 'failed' } } });
    expect(noop).toMatchObject({ status: 'succeeded', vars: { message: 'handled' } });
    const cont = conduct(flow('continue'), { mocks: { work: { status: 'failed' } } });
    expect(cont).toMatchObject({ status: 'failed', vars: { message: 'handled' } });
    expect(cont.failure?.task).toBe('work');
  });

  it('do: retry is the task retry (three attempts unless retry: says)', () => {
    const wf = validate(`version: 1.0
tasks:
  flaky:
    action: core.noop
    next:
      - when: <% succeeded() %>
        do: after
      - when: <% failed() and result().code = 503 %>
        do: retry
  after:
    action: core.noop
`).workflow!;
    expect(wf.tasks.flaky!.retry).toEqual({ count: 3, delay: 0, backoff: 'constant', on_error: '{{ (true and (result().code == 503)) }}' });
    expect(wf.tasks.flaky!.transitions).toHaveLength(1);
  });

  it('points at what it cannot take, in the file as written', () => {
    const e = errors(`version: 1.0
tasks:
  one:
    action: core.noop
    next:
      - when: <% $.items.where($ > 1) %>
        do: two
  two:
    action: core.noop
    retries: 3
`);
    expect(e.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
      "6:26 YAQL <% $.items.where($ > 1) %>: YAQL function 'where' is not supported (docs/migrating.md lists the supported ones)",
      '10:5 tasks.two.retries: not an Orquesta task key Closeloop reads',
    ]);
    const noRef = validateWorkflow('version: 1.0\ntasks:\n  a:\n    action: core.noop\n', {}).diagnostics;
    expect(noRef.find((d) => d.severity === 'error')?.message).toMatch(/an Orquesta file has no ref/);
    const unknown = validateWorkflow('version: 1.0\ntasks:\n  a:\n    action: core.local cmd=ls\n', { dialect: { ref: 'x.y' } }).diagnostics;
    expect(unknown.find((d) => d.severity === 'error')?.message).toMatch(/^tasks\.a\.action: unknown action 'core.local'.*StackStorm's core.local/);
  });
});

// StackStorm's own fixtures, where this machine has them (../shared/dialects): read, never copied in
const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'shared', 'dialects', 'orquesta');
describe.skipIf(!existsSync(FIXTURES))("Orquesta's published fixture workflows", () => {
  const read = (name: string) => readFileSync(join(FIXTURES, `${name}.yaml`), 'utf8');
  it('all validate unchanged except rollback-retry (StackStorm core.local: shell commands on its hosts)', () => {
    const invalid = readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.yaml'))
      .filter((f) => !validateWorkflow(readFileSync(join(FIXTURES, f), 'utf8'), { dialect: { ref: 'orquesta.fixture' } }).ok);
    expect(invalid).toEqual(['rollback-retry.yaml']);
  });
  it('route as its conducting tests expect', () => {
    expect(conduct(read('decision'), { parameters: { which: 'b' } }).sequence).toEqual(['t1@0', 'b@0']);
    expect(conduct(read('decision'), { parameters: { which: 'z' } }).sequence).toEqual(['t1@0', 'c@0']);
    const cont = conduct(read('error-handling-continue'), { mocks: { task1: { status: 'failed' } } });
    expect(cont).toMatchObject({ status: 'failed', vars: { message: '$%#&@#$!!!' } });
    expect(conduct(read('error-handling-noop'), { mocks: { task1: { status: 'failed' } } }).status).toBe('succeeded');
    const fail = conduct(read('error-handling-fail'), { mocks: { task1: { status: 'failed' } } });
    expect(fail.sequence.map((s) => s.split('@')[0])).toEqual(['task1', 'task3']);
    expect(fail.status).toBe('failed');
    // splits: each arrival at a task without join runs it on a route of its own, named by the transitions taken
    const split = conduct(read('split'));
    expect(split.routes).toEqual([[], ['task2__t0'], ['task3__t0']]);
    expect(split.sequence).toEqual(['task1@0', 'task2@0', 'task3@0', 'task4@1', 'task4@2', 'task5@1', 'task5@2', 'task6@1', 'task6@2', 'task7@1', 'task7@2']);
    expect(conduct(read('splits')).routes).toEqual([[], ['task1__t0'], ['task2__t0'], ['task3__t0'], ['task2__t0', 'task7__t0'], ['task3__t0', 'task7__t0']]);
    expect(conduct(read('splits-nested')).sequence.filter((x) => x.startsWith('task10@'))).toEqual(['task10@3', 'task10@4', 'task10@5', 'task10@6']);
    expect(conduct(read('splits-transition')).routes.slice(3)).toEqual([
      ['task1__t0', 'task3__t0'],
      ['task1__t0', 'task3__t1'],
      ['task2__t0', 'task3__t0'],
      ['task2__t0', 'task3__t1'],
    ]);
    // a cycle: the published count bounds it (the input's default applies)
    expect(conduct(read('cycle')).sequence.map((x) => x.split('@')[0])).toEqual(['prep', ...Array(3).fill(['task1', 'task2', 'task3']).flat()]);
    const join7 = conduct(read('join'));
    expect(join7.sequence.map((s) => s.split('@')[0])).toEqual(['task1', 'task2', 'task4', 'task3', 'task5', 'task6', 'task7']);
  });
});
