// Approvals: pending inquiries with a form from each one's schema; every inquiry has its own link
// (#/inquiries/<id>) to put in a notification.
import { useState } from './vendor/hooks.mjs';
import { get, post, enc } from './api.js';
import { html, useLive, Countdown, Status, ErrorBox, Loading, when, link } from './ui.js';
import { SchemaForm } from './schema-form.js';

const mine = (me) => (i) => i.assigned_to === me.key_id || me.roles.includes(i.assigned_to);

export function Approvals({ me, can }) {
  const [status, setStatus] = useState('pending');
  const [scope, setScope] = useState('all');
  const { data, error, loading } = useLive(() => get(`/v1/inquiries${status ? `?status=${status}` : ''}`), [status]);
  const list = (data?.inquiries ?? []).filter(scope === 'mine' ? mine(me) : () => true);
  return html`<section>
    <h1>Approvals</h1>
    <div class="filters">
      <label
        >Show
        <select value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="pending">pending</option>
          <option value="responded">answered</option>
          <option value="timed_out">timed out</option>
          <option value="">all</option>
        </select></label
      >
      <label
        >Assigned
        <select value=${scope} onChange=${(e) => setScope(e.target.value)}>
          <option value="all">to anyone</option>
          <option value="mine">to me or my roles</option>
        </select></label
      >
    </div>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : list.length === 0 ? html`<p class="empty">No ${status || ''} inquiries.</p>` : null}
    <ul class="cards">
      ${list.map(
        (i) =>
          html`<li class="card" key=${i.id}>
            <h2>${link(`#/inquiries/${enc(i.id)}`, i.prompt || i.task)}</h2>
            <p class="meta">
              <${Status} value=${i.status} /> task <code>${i.task}</code> of run ${link(`#/runs/${enc(i.execution_id)}`, i.execution_id)}
              ${i.assigned_to ? html` · assigned to <strong>${i.assigned_to}</strong>` : null}
              ${i.status === 'pending' && i.deadline ? html` · answer <${Countdown} to=${i.deadline} />` : null}
            </p>
            ${
              i.status === 'pending' && can('approver')
                ? html`<${SchemaForm}
                    schema=${i.schema}
                    idPrefix=${`q-${i.id}`}
                    onSubmit=${(r) => post(`/v1/inquiries/${enc(i.id)}/respond`, { response: r })}
                  />`
                : null
            }
            ${i.status === 'responded' ? html`<p>Answered by <strong>${i.responded_by}</strong>: <code>${JSON.stringify(i.response)}</code></p>` : null}
          </li>`,
      )}
    </ul>
  </section>`;
}

export function Inquiry({ id, can }) {
  const [sent, setSent] = useState(null);
  // the API lists inquiries; one is found in the list (no private route for a single one)
  const { data, error, loading, reload } = useLive(async () => (await get('/v1/inquiries')).inquiries.find((i) => i.id === id) ?? null, [id]);
  if (loading) return html`<${Loading} />`;
  if (!data)
    return html`<section>
      <h1>Inquiry</h1>
      <${ErrorBox} error=${error ?? { code: 'not_found', message: `No inquiry '${id}' in this tenant.` }} />
    </section>`;
  const i = data;
  const answer = async (r) => {
    const out = await post(`/v1/inquiries/${enc(i.id)}/respond`, { response: r });
    setSent(out);
    await reload();
  };
  return html`<section>
    <p class="crumbs">${link('#/approvals', 'Approvals')} › inquiry</p>
    <h1>${i.prompt || i.task}</h1>
    <dl class="facts">
      <dt>Status</dt>
      <dd><${Status} value=${i.status} /></dd>
      <dt>Run</dt>
      <dd>${link(`#/runs/${enc(i.execution_id)}`, i.execution_id)} (task <code>${i.task}</code>)</dd>
      <dt>Asked</dt>
      <dd>${when(i.created_at)}</dd>
      ${
        i.deadline
          ? html`<dt>Deadline</dt>
              <dd>${when(i.deadline)} ${i.status === 'pending' ? html`(<${Countdown} to=${i.deadline} />)` : null}</dd>`
          : null
      }
      ${
        i.assigned_to
          ? html`<dt>Assigned to</dt>
              <dd>${i.assigned_to}</dd>`
          : null
      }
      ${
        i.status === 'responded'
          ? html`<dt>Answered by</dt>
              <dd>${i.responded_by}</dd>
              <dt>Answer</dt>
              <dd><code>${JSON.stringify(i.response)}</code></dd>`
          : null
      }
    </dl>
    ${sent ? html`<p class="notice" role="status">Answer accepted: the run continues.</p>` : null}
    ${i.status === 'pending' && can('approver') ? html`<${SchemaForm} schema=${i.schema} idPrefix="inquiry" onSubmit=${answer} />` : null}
    ${i.status === 'pending' && !can('approver') ? html`<p class="help">Answering needs the approver role.</p>` : null}
  </section>`;
}
