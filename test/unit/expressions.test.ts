import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, ExpressionError, HostFunction, describeError, parseTemplate, render } from '../../dsl/expr/index.js';

const scope = {
  parameters: { env: 'prod', regions: ['eu', 'us'], n: 7 },
  vars: {
    xs: [3, 1, 2],
    users: [
      { name: 'b', age: 30, admin: true },
      { name: 'a', age: 20, admin: false },
    ],
    m: { k: 'v', z: 1 },
    empty: [],
  },
  system: { timestamp: 1000 },
  task: { deploy: { result: { url: 'http://x' }, status: 'succeeded' } },
  succeeded: new HostFunction('succeeded', () => true),
  kv: { get: new HostFunction('kv.get', (args, kw) => (args[0] === 'known' ? 'value' : (kw.default ?? null))) },
};
const r = (t: string) => render(t, scope);

describe('expression language', () => {
  it.each([
    ['{{ 1 + 2 * 3 }}', 7],
    ['{{ (1 + 2) * 3 }}', 9],
    ['{{ 7 // 2 }}', 3],
    ['{{ 7 % 3 }}', 1],
    ['{{ 2 ** 10 }}', 1024],
    ['{{ -parameters.n }}', -7],
    ['{{ system.timestamp - 400 }}', 600],
    ["{{ 'a' ~ 1 ~ true }}", 'a1true'],
    ['{{ [1, 2] + [3] }}', [1, 2, 3]],
    ["{{ {'a': 1, b: [2]} }}", { a: 1, b: [2] }],
    ['{{ parameters.regions[1] }}', 'us'],
    ['{{ parameters.regions[-1] }}', 'us'],
    ["{{ parameters['env'] }}", 'prod'],
    ['{{ task.deploy.result.url }}', 'http://x'],
    ["{{ parameters.env == 'prod' and not false }}", true],
    ['{{ 1 < 2 <= 2 }}', true],
    ["{{ 'eu' in parameters.regions }}", true],
    ["{{ 'asia' not in parameters.regions }}", true],
    ["{{ 'k' in vars.m }}", true],
    ["{{ 'ro' in 'prod' }}", true],
    ["{{ 'yes' if parameters.n > 5 else 'no' }}", 'yes'],
    ["{{ parameters.n > 50 ? 'big' : 'small' }}", 'small'],
    ['{{ vars.nothing is defined }}', false],
    ['{{ vars.xs is not none }}', true],
    ["{{ kv.get('known') }}", 'value'],
    ["{{ kv.get('other', default=5) }}", 5],
    ['{{ succeeded() }}', true],
    ['{{ none }}', null],
    ['{{ vars.nothing }}', null],
  ])('%s → %j', (t, expected) => expect(r(t)).toEqual(expected));

  it('a single expression keeps its type; mixed text renders as a string', () => {
    expect(r('{{ vars.xs }}')).toEqual([3, 1, 2]);
    expect(r('  {{ parameters.n }}  ')).toBe(7);
    expect(r('n={{ parameters.n }}')).toBe('n=7');
    expect(r('{{ vars.m }} and {{ vars.nothing }}')).toBe('{"k":"v","z":1} and ');
    expect(r('no template')).toBe('no template');
    expect(r("{{ '}}' }}")).toBe('}}');
  });

  it.each([
    ["{{ 'Hi' | upper }}", 'HI'],
    ["{{ 'Hi' | lower }}", 'hi'],
    ["{{ '  x ' | trim }}", 'x'],
    ["{{ 'hELLO' | capitalize }}", 'Hello'],
    ["{{ 'a-b' | replace('-', '+') }}", 'a+b'],
    ["{{ 'a,b' | split(',') }}", ['a', 'b']],
    ["{{ parameters.regions | join(sep='/') }}", 'eu/us'],
    ['{{ vars.xs | first }}', 3],
    ['{{ vars.xs | last }}', 2],
    ['{{ vars.xs | length }}', 3],
    ["{{ 'ab' | list }}", ['a', 'b']],
    ["{{ vars.users | map(attribute='name') }}", ['b', 'a']],
    ['{{ vars.users | select(admin=true) | length }}', 1],
    ["{{ vars.users | filter(name='a') | map(attribute='age') }}", [20]],
    ['{{ [0, 1, 2] | reject }}', [0]],
    ['{{ vars.xs | sort }}', [1, 2, 3]],
    ["{{ vars.users | sort(attribute='age') | map(attribute='name') }}", ['a', 'b']],
    ['{{ [1, 1, 2] | unique }}', [1, 2]],
    ['{{ vars.xs | reverse }}', [2, 1, 3]],
    ['{{ vars.xs | slice(start=1, end=2) }}', [1]],
    ['{{ [1, 2, 3, 4, 5] | batch(size=2) }}', [[1, 2], [3, 4], [5]]],
    ['{{ vars.xs | sum }}', 6],
    ['{{ vars.xs | min }}', 1],
    ['{{ vars.xs | max }}', 3],
    ['{{ 2.567 | round(2) }}', 2.57],
    ["{{ '42' | int }}", 42],
    ["{{ '1.5' | float }}", 1.5],
    ['{{ 5 | string }}', '5'],
    ["{{ 'yes' | bool }}", true],
    ["{{ vars.nothing | default('d') }}", 'd'],
    ['{{ \'{"a":1}\' | from_json }}', { a: 1 }],
    ['{{ vars.m | to_json }}', '{"k":"v","z":1}'],
    ['{{ vars.m | keys }}', ['k', 'z']],
    ['{{ vars.m | values }}', ['v', 1]],
    [
      '{{ vars.m | items }}',
      [
        ['k', 'v'],
        ['z', 1],
      ],
    ],
    ['{{ vars.xs | append(9) }}', [3, 1, 2, 9]],
    ['{{ vars.xs | prepend(0) }}', [0, 3, 1, 2]],
    ['{{ vars.m | merge({z: 2}, q=3) }}', { k: 'v', z: 2, q: 3 }],
    [
      '{{ {b: 1, a: 2} | dictsort }}',
      [
        ['a', 2],
        ['b', 1],
      ],
    ],
  ])('filter %s → %j', (t, expected) => expect(r(t)).toEqual(expected));

  it('reports errors with their position inside the template', () => {
    const cases: [string, string, string][] = [
      ['x {{ vars.a + }}', '1:15', 'unexpected end of expression'],
      ['{{ vars.xs | nope }}', '1:14', "unknown filter 'nope'"],
      ["{{ 'abc }}", '1:1', "'{{' is not closed"],
      ['{{ "abc\\" }}', '1:1', "'{{' is not closed"],
      ['{{ @ }}', '1:4', "unexpected character '@'"],
      ['{{ vars.nothing.deeper }}', '1:17', "cannot read 'deeper' of undefined"],
      ['line1\n{{ 1 / 0 }}', '2:6', 'division by zero'],
      ['{{ vars.a', '1:1', "'{{' is not closed"],
      ['{{ 1 + }} {{', '1:8', 'unexpected end'],
      ["{{ 'a' - 1 }}", '1:8', "cannot apply '-' to string and number"],
    ];
    for (const [t, at, msg] of cases) {
      try {
        r(t);
        expect.unreachable(`${t} should fail`);
      } catch (err) {
        expect(err).toBeInstanceOf(ExpressionError);
        expect(describeError(err as ExpressionError, t)).toMatch(new RegExp(`^${at}: .*${msg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      }
    }
  });

  it('never reaches prototypes or host objects', () => {
    for (const t of [
      '{{ constructor }}',
      '{{ vars.__proto__ }}',
      '{{ vars.xs.constructor }}',
      "{{ vars['__proto__'] }}",
      '{{ vars.m.toString }}',
      "{{ {'__proto__': 1} }}",
      '{{ vars.xs | map(attribute="constructor") }}',
    ]) {
      let value: unknown;
      try {
        value = r(t);
      } catch (err) {
        expect(err).toBeInstanceOf(ExpressionError);
        continue;
      }
      expect(value === null || value === '' || (Array.isArray(value) && value.every((v) => v === null))).toBe(true);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('is bounded: deep nesting, huge strings, long loops and long sources are refused', () => {
    expect(() => r(`{{ ${'('.repeat(500)}1${')'.repeat(500)} }}`)).toThrow(/nested deeper/);
    expect(() => r(`{{ ${'not '.repeat(500)}true }}`)).toThrow(/nested deeper/);
    expect(() => r(`{{ ${'['.repeat(200)}${']'.repeat(200)} }}`)).toThrow(/nested deeper/);
    expect(() => r("{{ 'x' * 100000000 }}")).toThrow(/larger than/);
    expect(() => r(`{{ ${Array.from({ length: 3000 }, () => 'vars.xs').join(' + ')} }}`)).toThrow(/longer than|larger than|cost budget/);
    expect(() => render(`{{ ${'1 + '.repeat(60_000)}1 }}`, scope)).toThrow(ExpressionError);
    const big = Array.from({ length: 200_000 }, (_, i) => i);
    expect(() => render('{{ xs + xs + xs + xs + xs + xs }}', { xs: big }, { maxSteps: 100_000, maxSize: 1_000_000 })).toThrow(/larger than|cost budget/);
    expect(() => render('{{ xs | sort | sort | sort }}', { xs: big }, { maxSteps: 300_000, maxSize: 1_000_000 })).toThrow(/cost budget/);
  });

  it('charges filter work against the cost budget: unique is linear, a huge sort is refused at once', () => {
    // 12,000 distinct characters: quadratic `unique` held the workflow thread for seconds (issue #12)
    const distinct = Array.from({ length: 12_000 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');
    const meter = { used: 0 };
    expect(render(`{{ ('${distinct}' | list | unique) | length }}`, {}, { ...DEFAULT_LIMITS, meter })).toBe(12_000);
    expect(meter.used).toBeGreaterThan(36_000); // the list, the keys and the result were paid for
    expect(meter.used).toBeLessThan(DEFAULT_LIMITS.maxSteps / 5);
    // equal values collapse whatever their key order; values of different kinds stay apart
    expect(render(`{{ [{'a': 1, 'b': 2}, {'b': 2, 'a': 1}, [1], '[1]', 1, '1', none] | unique | length }}`, {})).toBe(6);
    expect(() => render(`{{ ('x' * 999999) | list | sort | length }}`, {})).toThrow(/cost budget of 1000000 units/);
    expect(() => render(`{{ xs | sort | unique | sort }}`, { xs: Array.from({ length: 300_000 }, (_, i) => -i) })).toThrow(/cost budget/);
    expect(() => render(`{{ ('ab' * 400000) | replace('a', 'xyz') | length }}`, {})).toThrow(/cost budget/);
    // comparing nested values pays per value visited
    const nested = Array.from({ length: 300 }, () => Array.from({ length: 300 }, () => [1, 2, 3]));
    const m2 = { used: 0 };
    expect(render('{{ xs == ys }}', { xs: nested, ys: nested.map((x) => x.map((y) => [...y])) }, { ...DEFAULT_LIMITS, meter: m2 })).toBe(true);
    expect(m2.used).toBeGreaterThan(300 * 300 * 4);
  });

  it('parses templates once into parts', () => {
    const t = parseTemplate('a {{ 1 }} b {{ 2 }}');
    expect(t.single).toBe(false);
    expect(t.parts).toHaveLength(4);
    expect(parseTemplate('{{ [1] }}').single).toBe(true);
  });

  it('renders a template parsed earlier against each new scope, and reports a bad one every time', () => {
    const t = '{{ parameters.n * 2 }} for {{ parameters.env }}';
    expect(render(t, scope)).toBe('14 for prod');
    expect(render(t, { parameters: { n: 1, env: 'dev' } })).toBe('2 for dev');
    for (let i = 0; i < 2; i++) expect(() => render('{{ 1 + }}', scope)).toThrow(ExpressionError);
    // more sources than the cache holds: the oldest go, every answer stays right
    for (let i = 0; i < 2100; i++) expect(render(`{{ ${i} + 1 }}`, scope)).toBe(i + 1);
    expect(render(t, { parameters: { n: 3, env: 'qa' } })).toBe('6 for qa');
  });
});
