// The strategy library: every version with its status, author and approver; approve (not by the
// author), activate and roll back; each version's hit rate over the last day.
import { useState } from './vendor/hooks.mjs';
import { get, post, enc } from './api.js';
import { html, useLive, Status, ErrorBox, Loading, Action, when } from './ui.js';

/** A new version (a draft) from its YAML: someone else approves it. */
function Draft({ reload }) {
  const [yaml, setYaml] = useState('');
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const s = await post('/v1/strategies', yaml);
      setSaved(`${s.id} version ${s.version} is a draft: someone else must approve it.`);
      setYaml('');
      await reload();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="card draft" onSubmit=${submit}>
    <label for="strategy-yaml">New strategy version (YAML)</label>
    <textarea id="strategy-yaml" rows="8" value=${yaml} onInput=${(e) => setYaml(e.target.value)} required></textarea>
    <${ErrorBox} error=${error} />
    ${saved ? html`<p class="notice" role="status">${saved}</p>` : null}
    <button type="submit">Save as draft</button>
  </form>`;
}

export function Strategies({ me, can }) {
  const { data, error, loading, reload } = useLive(() => get('/v1/strategies'), []);
  const act = (s, action) => async () => {
    await post(`/v1/strategies/${enc(s.id)}/${action}`, action === 'rollback' ? {} : { version: s.version });
    await reload();
  };
  const hits = data?.hits;
  const rate = (s) => {
    const n = hits?.by_version?.[`${s.id}@${s.version}`] ?? 0;
    return hits?.events ? `${n} of ${hits.events} (${Math.round((n / hits.events) * 100)}%)` : '0';
  };
  const ids = [...new Set((data?.strategies ?? []).map((s) => s.id))];
  return html`<section>
    <h1>Strategies</h1>
    ${hits ? html`<p class="meta">Last ${hits.window_hours} hours: ${hits.events} events, ${hits.unmatched} matched no strategy.</p>` : null}
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null} ${can('operator') ? html`<${Draft} reload=${reload} />` : null}
    ${ids.map((id) => {
      const versions = data.strategies.filter((s) => s.id === id).sort((a, b) => b.version - a.version);
      const active = versions.find((v) => v.status === 'active');
      return html`<section class="card" key=${id}>
        <h2><code>${id}</code> on <code>${versions[0].on}</code></h2>
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Workflow</th>
              <th scope="col">Author</th>
              <th scope="col">Approved by</th>
              <th scope="col">Hits (24 h)</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            ${versions.map((s) => {
              const own = s.created_by === me.key_id;
              return html`<tr key=${s.version}>
                <td>${s.version}${s.shared ? ' (shared)' : ''}</td>
                <td><${Status} value=${s.status} /></td>
                <td>${s.workflow}</td>
                <td>${s.created_by ?? '—'}${own ? ' (you)' : ''}</td>
                <td>${s.approved_by ?? '—'} ${s.approved_at ? html`<span class="meta">${when(s.approved_at)}</span>` : null}</td>
                <td>${rate(s)}</td>
                <td>
                  <div class="toolbar">
                    ${
                      s.status === 'draft' && can('approver')
                        ? own
                          ? html`<span class="help">Another person must approve your draft.</span>`
                          : html`<${Action} label=${`Approve v${s.version}`} run=${act(s, 'approve')} />`
                        : null
                    }
                    ${s.status === 'approved' && can('approver') ? html`<${Action} label=${`Activate v${s.version}`} run=${act(s, 'activate')} />` : null}
                    ${
                      s === active && can('approver') && versions.some((v) => v.status === 'disabled')
                        ? html`<${Action} label="Roll back" confirm=${`Roll ${id} back to its previous version?`} run=${act(s, 'rollback')} />`
                        : null
                    }
                  </div>
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
      </section>`;
    })}
  </section>`;
}
