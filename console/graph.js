// The run's task graph as SVG: tasks in layers by their distance from the entry, coloured by status.
import { html } from './ui.js';

const W = 170;
const H = 44;
const GAP_X = 30;
const GAP_Y = 46;

/** Layers by breadth-first distance from the entry tasks; tasks no route reaches go in a last layer. */
export function layout(graph) {
  const byName = new Map(graph.tasks.map((t) => [t.name, t]));
  const depth = new Map();
  const queue = [...(graph.entry ?? [])].filter((n) => byName.has(n));
  for (const n of queue) depth.set(n, 0);
  while (queue.length) {
    const n = queue.shift();
    for (const next of byName.get(n)?.next ?? []) {
      if (!byName.has(next) || depth.has(next)) continue;
      depth.set(next, depth.get(n) + 1);
      queue.push(next);
    }
  }
  const last = Math.max(-1, ...depth.values()) + 1;
  for (const t of graph.tasks) if (!depth.has(t.name)) depth.set(t.name, last);
  const layers = [];
  for (const t of graph.tasks) (layers[depth.get(t.name)] ??= []).push(t.name);
  const width = Math.max(1, ...layers.map((l) => l?.length ?? 0)) * (W + GAP_X);
  const pos = new Map();
  layers.forEach((names, d) => {
    const offset = (width - names.length * (W + GAP_X)) / 2;
    names.forEach((n, i) => pos.set(n, { x: offset + i * (W + GAP_X) + GAP_X / 2, y: d * (H + GAP_Y) + 10 }));
  });
  return { pos, width, height: layers.length * (H + GAP_Y) + 10 };
}

export function Graph({ graph }) {
  if (!graph?.tasks?.length) return null;
  const { pos, width, height } = layout(graph);
  const edges = graph.tasks.flatMap((t) => [...new Set(t.next)].filter((n) => pos.has(n)).map((n) => [t.name, n]));
  return html`<figure class="graph">
    <svg viewBox=${`0 0 ${width} ${height}`} width=${width} height=${height} role="img" aria-label=${`Task graph of ${graph.workflow}`}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" />
        </marker>
      </defs>
      ${edges.map(([a, b]) => {
        const p = pos.get(a);
        const q = pos.get(b);
        const back = q.y <= p.y;
        const d = back
          ? `M${p.x + W},${p.y + H / 2} C${p.x + W + 40},${p.y + H / 2} ${q.x + W + 40},${q.y + H / 2} ${q.x + W},${q.y + H / 2}`
          : `M${p.x + W / 2},${p.y + H} L${q.x + W / 2},${q.y}`;
        return html`<path class=${`edge ${back ? 'back' : ''}`} d=${d} marker-end="url(#arrow)" />`;
      })}
      ${graph.tasks.map((t) => {
        const p = pos.get(t.name);
        return html`<g class=${`node node-${t.status}`} transform=${`translate(${p.x},${p.y})`}>
          <title>${t.name} (${t.action}): ${t.status}</title>
          <rect width=${W} height=${H} rx="6" />
          <text x=${W / 2} y="18" text-anchor="middle" class="name">${t.name.length > 22 ? `${t.name.slice(0, 21)}…` : t.name}</text>
          <text x=${W / 2} y="35" text-anchor="middle" class="sub">${t.status.replace('_', ' ')}</text>
        </g>`;
      })}
    </svg>
    <figcaption>${graph.workflow}@${graph.version}: ${graph.tasks.length} tasks</figcaption>
  </figure>`;
}
