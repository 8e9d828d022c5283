// Recent events with the strategy decision (the candidates, the winner, why the others did not match),
// and the manual-review queue with its actions.
import { useState } from './vendor/hooks.mjs';
import { get, post, enc } from './api.js';
import { html, useLive, Status, ErrorBox, Loading, Json, Action, when, link } from './ui.js';

function Decision({ e }) {
  if (!e.candidates) return html`<span class="meta">—</span>`;
  if (!e.candidates.length) return html`<span class="meta">no strategy listens for <code>${e.type}</code></span>`;
  return html`<details>
    <summary>
      ${e.strategy ? html`won by <strong>${e.strategy}</strong>` : 'no candidate matched'}
      ${` (${e.candidates.length} candidate${e.candidates.length > 1 ? 's' : ''})`}
    </summary>
    <ol class="candidates">
      ${e.candidates.map(
        (c) =>
          html`<li>
            <code>${c.id}@${c.version}</code> priority ${c.priority}, weight ${c.weight}:
            ${c.matched ? (e.strategy === `${c.id}@${c.version}` ? ' matched and won' : ' matched, lower precedence') : html` did not match: ${c.failed.map((f) => html`<code>${f.condition}</code> (${f.reason}) `)}`}
          </li>`,
      )}
    </ol>
  </details>`;
}

export function Events({ can }) {
  const [status, setStatus] = useState('');
  const events = useLive(() => get(`/v1/events${status ? `?status=${status}` : ''}`), [status]);
  const reviews = useLive(() => get('/v1/reviews?status=open'), []);
  const settle = (r, action) => async () => {
    await post(`/v1/reviews/${enc(r.id)}/${action}`, {});
    await reviews.reload();
  };
  return html`<section>
    <h1>Events</h1>
    <h2>Manual review</h2>
    <${ErrorBox} error=${reviews.error} />
    ${reviews.data && !reviews.data.reviews.length ? html`<p class="empty">Nothing waits for review.</p>` : null}
    <ul class="cards">
      ${(reviews.data?.reviews ?? []).map(
        (r) =>
          html`<li class="card" key=${r.id}>
            <p><strong>${r.reason}</strong>: event <code>${r.detail?.event?.type ?? ''}</code> ${r.detail?.event?.id ?? r.event_key} · ${when(r.created_at)}</p>
            ${r.detail?.error ? html`<p class="bad">${r.detail.error}</p>` : null}
            <details>
              <summary>detail</summary>
              <${Json} value=${r.detail} />
            </details>
            ${
              can('operator')
                ? html`<div class="toolbar">
                    <${Action} label="Mark handled" run=${settle(r, 'resolve')} />
                    <${Action} label="Dismiss" run=${settle(r, 'dismiss')} />
                  </div>`
                : null
            }
          </li>`,
      )}
    </ul>
    <h2>Recent events</h2>
    <div class="filters">
      <label
        >Status
        <select value=${status} onChange=${(e) => setStatus(e.target.value)}>
          ${['', 'accepted', 'started', 'unmatched', 'failed', 'received'].map((s) => html`<option value=${s}>${s || 'any'}</option>`)}
        </select></label
      >
    </div>
    <${ErrorBox} error=${events.error} />
    ${events.loading ? html`<${Loading} />` : null}
    <table class="list">
      <thead>
        <tr>
          <th scope="col">Received</th>
          <th scope="col">Type</th>
          <th scope="col">Event</th>
          <th scope="col">Status</th>
          <th scope="col">Decision</th>
          <th scope="col">Run</th>
        </tr>
      </thead>
      <tbody>
        ${(events.data?.events ?? []).map(
          (e) =>
            html`<tr key=${e.idempotency_key}>
              <td>${when(e.received_at)}</td>
              <td><code>${e.type}</code></td>
              <td>${e.id}</td>
              <td><${Status} value=${e.status} /></td>
              <td><${Decision} e=${e} /></td>
              <td>${e.execution_id ? link(`#/runs/${enc(e.execution_id)}`, 'run') : '—'}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
