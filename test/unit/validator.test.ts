import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPackIndex } from '../../cli/files.js';
import { DEFAULT_WORKFLOW_LIMITS, formatDiagnostic, validateParameters, validateWorkflow, ParameterError } from '../../dsl/index.js';
import { clampLimits } from '../../dsl/limits.js';
import { parseLimits } from '../../dsl/limits-file.js';
import { loadLimits } from '../../workers/agent-config.js';

const errorsOf = (yaml: string, opts = {}) =>
  validateWorkflow(yaml, opts)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.line}:${d.col}: ${d.message}`);

describe('workflow validation', () => {
  it('accepts every shipped example workflow without warnings', async () => {
    const packs = await loadPackIndex(join(import.meta.dirname, '..', '..', 'config'));
    const dir = join(import.meta.dirname, '..', '..', 'config', 'packs', 'examples', 'workflows');
    for (const f of readdirSync(dir)) {
      const r = validateWorkflow(readFileSync(join(dir, f), 'utf8'), { isKnownAction: packs.known(new Set()) });
      expect(r.diagnostics.map((d) => formatDiagnostic(f, d))).toEqual([]);
      expect(r.ok).toBe(true);
    }
  });

  it('reports every problem of a broken file with line and column', () => {
    const yaml = [
      'ref: bad.wf', //                          1
      'version: 1.0.0', //                       2
      'tasks:', //                               3
      '  - name: a', //                          4
      '    action: core.echo', //                5
      '    input: { message: "{{ vars.x + }}" }', // 6
      '    on_success: nowhere', //              7
      '  - name: a', //                          8
      '    action: foo.bar', //                  9
      '  - name: lonely', //                    10
      '    action: core.noop', //               11
      '    on_success: lonely', //              12
      '  - name: mixed', //                     13
      '    action: core.noop', //               14
      '    on_success: a', //                   15
      '    next: [ { do: a } ]', //             16
    ].join('\n');
    expect(errorsOf(yaml)).toEqual([
      '6:36: tasks[0].input.message: template error: unexpected end of expression',
      "7:17: tasks[0]: task 'a' transitions to unknown task 'nowhere'",
      "8:11: tasks[1].name: duplicate task name 'a' (first defined at line 4)",
      "9:13: tasks[1].action: unknown action 'foo.bar' (not a built-in, a pack action or a registered workflow; mock it with --mock or pass --allow-unknown-actions)",
      "10:5: tasks[2]: task 'lonely' can never be reached",
      "15:17: tasks[3].on_success: 'on_success' cannot be combined with 'next' on the same task: move it into a 'next' entry",
    ]);
  });

  it('reports schema errors at the offending key', () => {
    expect(errorsOf('ref: Bad\nversion: 1.x\ntasks:\n  - name: a\n    action: core.noop\n    colour: red\n')).toEqual([
      '1:6: ref: must be <pack>.<name>: lower-case letters, digits and underscores, in parts joined by dots (like billing.close_invoice)',
      '2:10: version: must be a semantic version, major.minor.patch (like 1.0.0)',
      "6:5: tasks[0]: unknown field 'colour'",
    ]);
    // a two-part version (Attune's "1.0", or the number 1.0) is read as semver, and said
    const two = validateWorkflow('ref: a.b\nversion: 1.0\ntasks:\n  - name: a\n    action: core.noop\n');
    expect(two.workflow?.version).toBe('1.0.0');
    expect(two.diagnostics.map((d) => `${d.line}:${d.col}: ${d.severity}: ${d.message}`)).toEqual([
      "2:10: warning: version 1.0 (a number) read as '1.0.0' (versions are semver: major.minor.patch)",
    ]);
    expect(errorsOf('ref: a.b\nversion: 1.0.0\n')).toEqual(["1:1: missing required field 'tasks'"]);
  });

  it('reports YAML syntax errors, duplicate keys and non-map documents', () => {
    expect(errorsOf('ref: a.b\n  version: [1\n')[0]).toMatch(/^\d+:\d+: YAML: /);
    expect(errorsOf('ref: a.b\nref: c.d\nversion: 1.0.0\ntasks: []\n')[0]).toMatch(/^2:1: YAML: .*[Uu]nique|^2:1: YAML: .*duplicate/i);
    expect(errorsOf('- just\n- a list\n')).toEqual(['1:1: a workflow file must be a YAML map with ref, version and tasks']);
  });

  it('survives hostile YAML: alias bombs, prototype keys, deep nesting, huge files', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ),
    ].join('\n');
    expect(validateWorkflow(bomb).ok).toBe(false);
    const proto = 'ref: a.b\nversion: 1.0.0\n__proto__: { polluted: true }\ntasks:\n  - name: a\n    action: core.noop\n';
    const r = validateWorkflow(proto);
    expect(r.ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const deep = `ref: a.b\nversion: 1.0.0\ntasks:\n  - name: a\n    action: core.echo\n    input: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    expect(() => validateWorkflow(deep)).not.toThrow();
    expect(validateWorkflow('x'.repeat(6 * 1024 * 1024)).diagnostics[0]?.message).toMatch(/larger than/);
  });

  it('warns (without failing) when a task has several inbound transitions and no join', () => {
    const r = validateWorkflow(
      'ref: a.b\nversion: 1.0.0\ntasks:\n  - name: x\n    action: core.noop\n    on_success: z\n  - name: y\n    action: core.noop\n    on_success: z\n  - name: z\n    action: core.noop\n',
    );
    expect(r.ok).toBe(true);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ severity: 'warning', line: 10, col: 5 });
  });

  it('enforces limits at validation with the offending position', () => {
    const yaml = `ref: a.b\nversion: 1.0.0\nlimits: { max_items: 3, max_parallel: 4 }\ntasks:\n  - name: x\n    action: core.noop\n    with_items: [1, 2, 3, 4]\n    concurrency: 5\n  - name: y\n    action: core.noop\n    batch_size: 2\n`;
    expect(errorsOf(yaml)).toEqual([
      '7:17: tasks[0].with_items: 4 items exceed limits.max_items (3)',
      '8:18: tasks[0].concurrency: concurrency 5 exceeds limits.max_parallel (4)',
      "9:5: tasks[1]: batch_size, concurrency and tolerated_failures only apply with 'with_items'",
    ]);
    const many = `ref: a.b\nversion: 1.0.0\nlimits: { max_tasks: 2 }\ntasks:\n${[1, 2, 3].map((i) => `  - name: t${i}\n    action: core.noop\n`).join('')}`;
    expect(errorsOf(many).some((e) => e.includes('3 tasks exceed the limit of 2'))).toBe(true);
  });

  it("refuses a file's limits above the operator's; the operator's limits apply where the file says nothing", async () => {
    const loop = (limits: string) =>
      `ref: a.b\nversion: 1.0.0\nlimits: { ${limits} }\ntasks:\n  - name: s\n    action: core.noop\n    on_success: x\n  - name: x\n    action: core.noop\n    on_success: x\n`;
    expect(errorsOf(loop('max_task_runs: 1000000000'))).toEqual([
      "3:26: limits.max_task_runs: 1000000000 is above the operator's limit of 1000: a workflow may only lower a limit (an operator raises it in config/limits.yaml)",
    ]);
    const operator = { ...DEFAULT_WORKFLOW_LIMITS, max_task_runs: 5000 };
    expect(errorsOf(loop('max_task_runs: 2000'), { limits: operator })).toEqual([]);
    expect(validateWorkflow(loop('max_task_runs: 2000'), { limits: operator }).workflow!.limits.max_task_runs).toBe(2000);
    expect(validateWorkflow(loop('max_items: 5'), { limits: operator }).workflow!.limits).toMatchObject({ max_task_runs: 5000, max_items: 5 });
    expect(errorsOf(loop('max_task_runs: 5001, max_parallel: 101'), { limits: operator })).toHaveLength(2);
    // config/limits.yaml: checked against its schema, which caps what an operator may allow
    expect(parseLimits('limits: { max_task_runs: 20000 }\n').limits).toMatchObject({ max_task_runs: 20000, max_items: 10000 });
    expect(parseLimits('limits: { max_task_runs: 1000000000 }\n').diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual([
      '1:26: limits.max_task_runs: must be <= 100000',
    ]);
    expect(clampLimits({ ...DEFAULT_WORKFLOW_LIMITS, max_parallel: 100 }, { ...DEFAULT_WORKFLOW_LIMITS, max_parallel: 10 }).max_parallel).toBe(10);
    const shipped = await loadLimits(join(import.meta.dirname, '..', '..', 'config'));
    expect(shipped).toEqual(DEFAULT_WORKFLOW_LIMITS);
  });

  it('refuses, with their position, names a run would fail on: unknown functions and unknown scopes', () => {
    const yaml = `ref: a.b\nversion: 1.0.0\ntasks:\n  - name: x\n    action: core.echo\n    input: { message: "{{ nosuchscope.x }} and {{ vars.a | upper }}" }\n    next:\n      - when: "{{ succeded() or result }}"\n        do: y\n  - name: y\n    action: core.noop\n`;
    expect(errorsOf(yaml)).toEqual([
      "6:27: tasks[0].input.message: template error: unknown name 'nosuchscope' (the scopes are parameters, vars, workflow, task, system, event, pack, kv, item, index, error)",
      "8:19: tasks[0].next[0].when: template error: unknown function 'succeded' (the functions are succeeded(), failed(), completed(), timed_out(), skipped(), result(), ctx(), task_status(), json(), zip(), random(), now(), uuid())",
      "8:33: tasks[0].next[0].when: template error: unknown name 'result' ('result' is a function: call it, result())",
    ]);
  });

  it('refuses YAQL <% %> outside a Jinja template, at its position: it would otherwise stay plain text (a when always true)', () => {
    const yaml = `ref: a.b\nversion: 1.0.0\ntasks:\n  - name: x\n    action: core.echo\n    input: { message: "hi <% ctx().name %>", quoted: "{{ '<% not yaql %>' }}" }\n    next:\n      - when: "<% succeeded() %>"\n        do: y\n  - name: y\n    action: core.noop\n`;
    expect(errorsOf(yaml)).toEqual([
      '6:27: tasks[0].input.message: template error: <% ctx().name %> is a YAQL expression, which is not evaluated here: it would be taken as plain text. Write it as a Jinja template, {{ ctx().name }}',
      '8:16: tasks[0].next[0].when: template error: <% succeeded() %> is a YAQL expression, which is not evaluated here: it would be taken as plain text. Write it as a Jinja template, {{ succeeded() }}',
    ]);
  });

  it('reports every unknown key of a map, each at its position', () => {
    const yaml = 'ref: a.b\nversion: 1.0.0\ntasks:\n  - name: x\n    action: core.noop\n    colour: red\n    flavour: sweet\n';
    expect(errorsOf(yaml)).toEqual(["6:5: tasks[0]: unknown field 'colour'", "7:5: tasks[0]: unknown field 'flavour'"]);
  });

  it('warns of several inbound transitions counting decision branches, not self-loops', () => {
    const warnings = (yaml: string) =>
      validateWorkflow(yaml, {})
        .diagnostics.filter((d) => d.severity === 'warning')
        .map((d) => d.message);
    const decision = `ref: a.b\nversion: 1.0.0\ntasks:\n  - name: a\n    action: core.noop\n    decision:\n      - when: "{{ true }}"\n        next: b\n      - default: c\n  - name: c\n    action: core.noop\n    on_success: b\n  - name: b\n    action: core.noop\n`;
    expect(warnings(decision)).toEqual([
      `tasks[2]: task 'b' has 2 inbound transitions and no 'join': each arrival runs it, on a route of its own (dsl.md "Joins and routes")`,
    ]);
    const selfLoop =
      'ref: a.b\nversion: 1.0.0\ntasks:\n  - name: a\n    action: core.noop\n    on_success: poll\n  - name: poll\n    action: core.noop\n    on_failure: poll\n';
    expect(warnings(selfLoop)).toEqual([]);
  });

  it('treats mocked or allowed unknown actions as known', () => {
    const yaml = 'ref: a.b\nversion: 1.0.0\ntasks:\n  - name: x\n    action: shop.ship\n';
    expect(validateWorkflow(yaml).ok).toBe(false);
    expect(validateWorkflow(yaml, { isKnownAction: (r) => r === 'shop.ship' }).ok).toBe(true);
    const allowed = validateWorkflow(yaml, { allowUnknownActions: true });
    expect(allowed.ok).toBe(true);
    expect(allowed.diagnostics[0]?.severity).toBe('warning');
    // the user passed --allow-unknown-actions: the warning does not tell them to
    expect(allowed.diagnostics[0]?.message).not.toMatch(/allow-unknown-actions|--mock/);
    expect(validateWorkflow(yaml).diagnostics[0]?.message).toMatch(/mock it with --mock or pass --allow-unknown-actions/);
  });

  it('compiles legacy and canonical transitions into one graph', () => {
    const r = validateWorkflow(`ref: a.b
version: 1.0.0
tasks:
  - name: a
    action: core.noop
    on_success: [b]
    on_failure: c
    decision:
      - when: "{{ true }}"
        next: b
      - default: c
  - name: b
    action: core.noop
    next:
      - when: "{{ succeeded() }}"
        publish: [ { x: 1 } ]
        do: "c, d"
  - name: c
    action: core.noop
    join: all
  - name: d
    action: core.noop
`);
    expect(r.ok).toBe(true);
    const wf = r.workflow!;
    expect(wf.entry).toEqual(['a']);
    expect(wf.tasks.a!.transitions.map((t) => [t.on, t.do])).toEqual([
      ['succeeded', ['b']],
      ['failed', ['c']],
    ]);
    expect(wf.tasks.a!.decision).toEqual([{ when: '{{ true }}', next: 'b' }, { next: 'c' }]);
    expect(wf.tasks.b!.transitions[0]).toMatchObject({ on: 'any', when: '{{ succeeded() }}', publish: [['x', 1]], do: ['c', 'd'] });
    expect(wf.tasks.c!.inbound.sort()).toEqual(['a', 'b']);
  });
});

describe('parameters', () => {
  it('validates input, applies defaults and names each bad field', () => {
    const r = validateWorkflow(
      'ref: a.b\nversion: 1.0.0\nparameters:\n  name: { type: string, required: true }\n  n: { type: integer, default: 3 }\n  token: { type: string, secret: true }\ntasks:\n  - name: x\n    action: core.noop\n',
    );
    const wf = r.workflow!;
    expect(wf.secretParameters).toEqual(['token']);
    expect(validateParameters(wf.parameters, { name: 'x' })).toEqual({ name: 'x', n: 3 });
    try {
      validateParameters(wf.parameters, { n: 'three', extra: 1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ParameterError);
      expect((err as ParameterError).problems.map((p) => p.field).sort()).toEqual(['extra', 'n', 'name']);
    }
  });
});

describe('keys that would reach a prototype', () => {
  const base = 'ref: a.b\nversion: 1.0.0\n';
  const task = 'tasks:\n  - name: a\n    action: core.noop\n';
  it('are refused where a variable is written (vars, publish, next publish) and in map literals (merge), at their position', () => {
    const cases: [string, RegExp][] = [
      [`${base}vars:\n  __proto__: { x: 1 }\n${task}`, /^4:3 vars\.__proto__: a variable named '__proto__' is not allowed/],
      [`${base}${task}    publish: [{__proto__: "{{ 1 }}"}]\n`, /^6:16 tasks\[0\]\.publish\[0\]\.__proto__: a variable named/],
      [`${base}${task}    next:\n      - publish: [constructor]\n`, /^7:19 tasks\[0\]\.next\[0\]\.publish\[0\]: a variable named 'constructor'/],
      [`${base}${task}    input: { m: "{{ {} | merge({'prototype': 1}) }}" }\n`, /template error: a map key named 'prototype' is not allowed/],
    ];
    for (const [yaml, expected] of cases) {
      const r = validateWorkflow(yaml);
      expect(r.ok).toBe(false);
      expect(r.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n')).toMatch(expected);
    }
    expect(validateWorkflow(`${base}vars:\n  proto: 1\n${task}    publish: [{ ctor: "{{ {'a': 1} | merge({'b': 2}) }}" }]\n`).ok).toBe(true);
  });
});
