// Runs: filters (status, workflow, strategy, id), cursor paging, refreshed live.
import { useState } from './vendor/hooks.mjs';
import { get, enc } from './api.js';
import { html, useLive, Status, ErrorBox, Loading, when, link } from './ui.js';

const STATUSES = ['', 'running', 'paused', 'succeeded', 'failed', 'timed_out', 'cancelled'];

export function Runs() {
  const [filters, setFilters] = useState({ status: '', workflow: '', strategy: '', q: '' });
  const [cursors, setCursors] = useState([]);
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  if (cursors.length) query.set('cursor', cursors[cursors.length - 1]);
  const { data, error, loading } = useLive(() => get(`/v1/executions?${query}`), [query.toString()]);
  const set = (k) => (e) => {
    setCursors([]);
    setFilters((f) => ({ ...f, [k]: e.target.value.trim() }));
  };
  return html`<section>
    <h1>Runs</h1>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label
        >Status
        <select value=${filters.status} onChange=${set('status')}>
          ${STATUSES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}
        </select></label
      >
      <label>Workflow <input value=${filters.workflow} onChange=${set('workflow')} placeholder="ref" /></label>
      <label>Strategy <input value=${filters.strategy} onChange=${set('strategy')} placeholder="id" /></label>
      <label>Run id contains <input type="search" value=${filters.q} onChange=${set('q')} /></label>
    </form>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${
      data
        ? html`<table class="list">
              <caption class="sr-only">
                Runs, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Workflow</th>
                  <th scope="col">Strategy</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col">Ended</th>
                </tr>
              </thead>
              <tbody>
                ${data.executions.map(
                  (r) =>
                    html`<tr key=${r.id}>
                      <td>${link(`#/runs/${enc(r.id)}`, r.id)}</td>
                      <td>${r.workflow}@${r.version}</td>
                      <td>${r.strategy ?? '—'}</td>
                      <td><${Status} value=${r.status} /></td>
                      <td>${when(r.started_at)}</td>
                      <td>${when(r.ended_at)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
            ${data.executions.length === 0 ? html`<p class="empty">No runs match.</p>` : null}
            <div class="pager">
              <button type="button" disabled=${!cursors.length} onClick=${() => setCursors([])}>Newest</button>
              <button type="button" disabled=${!data.next_cursor} onClick=${() => setCursors((c) => [...c, data.next_cursor])}>Older</button>
            </div>`
        : null
    }
  </section>`;
}
