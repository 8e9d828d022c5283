import type { CompiledWorkflow } from './types.js';

const LABEL: Record<string, string> = { succeeded: 'success', failed: 'failure', timed_out: 'timeout', completed: 'complete', any: '' };

function edges(wf: CompiledWorkflow): { from: string; to: string; label: string }[] {
  const out: { from: string; to: string; label: string }[] = [];
  for (const t of Object.values(wf.tasks)) {
    for (const tr of t.transitions)
      for (const to of tr.do) out.push({ from: t.name, to, label: tr.when ? tr.when.replace(/^\{\{\s*|\s*\}\}$/g, '') : (LABEL[tr.on] ?? tr.on) });
    for (const d of t.decision ?? []) out.push({ from: t.name, to: d.next, label: d.when ? d.when.replace(/^\{\{\s*|\s*\}\}$/g, '') : 'default' });
  }
  return out;
}

const id = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');
const esc = (s: string) => s.replace(/"/g, "'");

/** Mermaid flowchart; `status` colours tasks by their latest outcome. */
export function toMermaid(wf: CompiledWorkflow, status: Record<string, string> = {}): string {
  const lines = ['flowchart TD'];
  for (const name of wf.order) {
    const t = wf.tasks[name]!;
    if (t.subtasks) {
      lines.push(`  subgraph ${id(name)} [${esc(name)}]`, ...t.subtasks.map((s) => `    ${id(s)}["${esc(s)}"]`), '  end');
    } else if (!t.parent) lines.push(`  ${id(name)}["${esc(name)}${t.action ? `<br/>${esc(t.action)}` : ''}"]`);
  }
  for (const e of edges(wf)) lines.push(`  ${id(e.from)} -->${e.label ? `|"${esc(e.label)}"|` : ''} ${id(e.to)}`);
  const colours: Record<string, string> = { succeeded: '#c8f7c5', failed: '#f7c5c5', timed_out: '#f7e3c5', skipped: '#e0e0e0', running: '#c5dcf7' };
  for (const [name, s] of Object.entries(status)) if (colours[s]) lines.push(`  style ${id(name)} fill:${colours[s]}`);
  return lines.join('\n');
}

export function toDot(wf: CompiledWorkflow): string {
  const lines = [`digraph "${esc(wf.ref)}" {`, '  rankdir=TB;'];
  for (const name of wf.order) lines.push(`  "${esc(name)}";`);
  for (const t of Object.values(wf.tasks)) for (const s of t.subtasks ?? []) lines.push(`  "${esc(t.name)}" -> "${esc(s)}" [style=dashed];`);
  for (const e of edges(wf)) lines.push(`  "${esc(e.from)}" -> "${esc(e.to)}"${e.label ? ` [label="${esc(e.label)}"]` : ''};`);
  lines.push('}');
  return lines.join('\n');
}
