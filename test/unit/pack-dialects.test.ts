// Pack workflows in other dialects: Orquesta files under workflows/ are <pack>.<file stem>, and an
// Attune workflow action (actions/<name>.yaml with workflow_file) gives its graph file its ref,
// label, parameters and output.
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPackContents, loadPackWorkflows } from '../../workers/config.js';

describe('pack workflows written for StackStorm and Attune', () => {
  it('are registered under the refs their packs give them', async () => {
    const config = await mkdtemp(join(tmpdir(), 'closeloop-packs-'));
    const pack = join(config, 'packs', 'shipping');
    await mkdir(join(pack, 'actions', 'workflows'), { recursive: true });
    await mkdir(join(pack, 'workflows'), { recursive: true });
    await writeFile(
      join(pack, 'actions', 'dispatch.yaml'),
      `ref: shipping.dispatch
label: Dispatch an order
workflow_file: workflows/dispatch.workflow.yaml
parameters:
  order_id: { type: string, required: true }
output:
  carrier: { type: string }
`,
    );
    await writeFile(
      join(pack, 'actions', 'workflows', 'dispatch.workflow.yaml'),
      `version: "1.0"
tasks:
  - name: book
    action: core.echo
    input: { message: "{{ parameters.order_id }}" }
output_map: { carrier: "{{ task.book.result.message }}" }
`,
    );
    await writeFile(join(pack, 'workflows', 'notify-customer.yaml'), 'version: 1.0\ntasks:\n  send:\n    action: core.echo message="sent"\n');
    const lines: string[] = [];
    const contents = await loadPackContents(config, (l) => lines.push(l));
    expect([...contents.actions.keys()]).toEqual([]); // the wrapper is a workflow, not an action
    const wfs = await loadPackWorkflows(config, new Set(), (l) => lines.push(l));
    expect(wfs.map((w) => w.workflow.ref).sort()).toEqual(['shipping.dispatch', 'shipping.notify_customer']);
    const dispatch = wfs.find((w) => w.workflow.ref === 'shipping.dispatch')!.workflow;
    expect(dispatch).toMatchObject({ label: 'Dispatch an order', version: '1.0.0' });
    expect(dispatch.parameters).toMatchObject({ properties: { order_id: { type: 'string' } }, required: ['order_id'] });
    expect(dispatch.output).toMatchObject({ type: 'object', properties: { carrier: { type: 'string' } } });
    expect(lines.filter((l) => !l.includes('warning'))).toEqual([]);
    expect(lines.some((l) => l.includes('label, parameters, output: from the action file that names this workflow'))).toBe(true);
  });
});
