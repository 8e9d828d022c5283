// Incidents: a board by status with severity and SLA countdowns; one incident with its timeline,
// the actions its state allows (docs/closure.md "Incidents"), and notes.
import { useState } from './vendor/hooks.mjs';
import { get, post, enc } from './api.js';
import { html, useLive, Status, ErrorBox, Loading, Countdown, Json, when, link } from './ui.js';

const COLUMNS = ['open', 'escalated', 'acknowledged', 'investigating', 'mitigated', 'resolved'];
/** The transitions the incident workflow accepts, so only possible actions get a button. */
const ALLOWED = {
  open: ['acknowledge', 'escalate', 'resolve'],
  acknowledged: ['investigate'],
  investigating: ['mitigate', 'escalate', 'resolve'],
  escalated: ['acknowledge', 'investigate'],
  mitigated: ['investigate', 'resolve'],
  resolved: [],
};
const LABEL = { acknowledge: 'Acknowledge', investigate: 'Investigate', mitigate: 'Mitigated', escalate: 'Escalate', resolve: 'Resolve' };

function Sla({ i }) {
  if (i.status === 'resolved') return html`<span class="meta">resolved ${when(i.resolved_at)}</span>`;
  if (i.status === 'open' && i.ack_due_at) return html`<${Countdown} to=${i.ack_due_at} label="ack SLA" />`;
  return i.resolve_due_at ? html`<${Countdown} to=${i.resolve_due_at} label="resolve SLA" />` : null;
}

export function Incidents() {
  const { data, error, loading } = useLive(() => get('/v1/incidents'), []);
  const all = data?.incidents ?? [];
  return html`<section>
    <h1>Incidents</h1>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    <div class="board">
      ${COLUMNS.map((c) => {
        const items = all.filter((i) => i.status === c).slice(0, c === 'resolved' ? 20 : 200);
        return html`<section class="column" aria-labelledby=${`col-${c}`}>
          <h2 id=${`col-${c}`}>${c} <span class="count">${items.length}</span></h2>
          <ul>
            ${items.map(
              (i) =>
                html`<li class=${`card sev-${i.severity}`} key=${i.run_id}>
                  <span class=${`sev sev-${i.severity}`}>${i.severity}</span> ${link(`#/incidents/${enc(i.id)}`, i.title)}
                  <p class="meta">${i.source}: ${i.source_id} · opened ${when(i.opened_at)}</p>
                  <p><${Sla} i=${i} /></p>
                </li>`,
            )}
          </ul>
        </section>`;
      })}
    </div>
  </section>`;
}

function Actions({ i, reload }) {
  const [rootCause, setRootCause] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const act = async (action, body = {}) => {
    setBusy(true);
    setError(null);
    try {
      await post(`/v1/incidents/${enc(i.id)}/${action}`, body);
      if (action === 'note') setNote('');
      await reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const allowed = ALLOWED[i.status] ?? [];
  return html`<div class="incident-actions">
    <div class="toolbar" role="group" aria-label="Incident actions">
      ${allowed.filter((a) => a !== 'resolve').map((a) => html`<button type="button" disabled=${busy} onClick=${() => act(a)}>${LABEL[a]}</button>`)}
    </div>
    ${
      allowed.includes('resolve')
        ? html`<form onSubmit=${(e) => (e.preventDefault(), act('resolve', rootCause.trim() ? { root_cause: rootCause } : {}))}>
            <label for="root-cause">Root cause (required to resolve)</label>
            <textarea id="root-cause" rows="3" value=${rootCause} onInput=${(e) => setRootCause(e.target.value)}></textarea>
            <button type="submit" disabled=${busy}>Resolve</button>
          </form>`
        : null
    }
    <form onSubmit=${(e) => (e.preventDefault(), act('note', { note }))}>
      <label for="note">Note${i.status === 'resolved' ? ' (post-mortem)' : ''}</label>
      <textarea id="note" rows="2" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea>
      <button type="submit" disabled=${busy}>Add note</button>
    </form>
    <${ErrorBox} error=${error} />
  </div>`;
}

export function Incident({ id, can }) {
  const { data: i, error, loading, reload } = useLive(() => get(`/v1/incidents/${enc(id)}`), [id]);
  if (loading) return html`<${Loading} />`;
  if (!i)
    return html`<section>
      <h1>Incident</h1>
      <${ErrorBox} error=${error} />
    </section>`;
  const run = i.attribution?.execution_id;
  return html`<section>
    <p class="crumbs">${link('#/incidents', 'Incidents')} › incident</p>
    <h1><span class=${`sev sev-${i.severity}`}>${i.severity}</span> ${i.title} <${Status} value=${i.status} /></h1>
    <dl class="facts">
      <dt>Source</dt>
      <dd>${i.source}: ${i.source_id}</dd>
      <dt>Opened</dt>
      <dd>${when(i.opened_at)}</dd>
      <dt>SLA</dt>
      <dd><${Sla} i=${i} /></dd>
      <dt>Escalation level</dt>
      <dd>${i.escalation_level}</dd>
      <dt>Alerts</dt>
      <dd>${i.alert_count}</dd>
      ${
        run
          ? html`<dt>Run</dt>
              <dd>${link(`#/runs/${enc(run)}`, run)}</dd>`
          : null
      }
      ${
        i.root_cause
          ? html`<dt>Root cause</dt>
              <dd>${i.root_cause}</dd>`
          : null
      }
    </dl>
    ${can('operator') ? html`<${Actions} i=${i} reload=${reload} />` : null}
    <h2>Timeline</h2>
    <ol class="timeline">
      ${i.events.map(
        (e) =>
          html`<li key=${e.seq}>
            <time datetime=${e.at}>${when(e.at)}</time>
            <strong>${e.kind}</strong>${e.from || e.to ? ` ${e.from ?? ''} → ${e.to ?? ''}` : ''}${e.by ? ` by ${e.by}` : ''}
            ${
              e.detail && Object.keys(e.detail).length
                ? html`<details>
                    <summary>detail</summary>
                    <${Json} value=${e.detail} />
                  </details>`
                : null
            }
          </li>`,
      )}
    </ol>
  </section>`;
}
