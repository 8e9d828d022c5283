// A run's delivery report: verdict, checks, remediations, inquiries and the audit trail; Markdown and JSON links.
import { useState } from './vendor/hooks.mjs';
import { api, enc } from './api.js';
import { html, useLive, Status, ErrorBox, Loading, Json, when, link } from './ui.js';

/** Downloads through the API (the key goes in a header, never in a link). */
async function download(id, type) {
  const res = await api('GET', `/v1/reports/${enc(id)}`, undefined, { accept: type });
  const body = typeof res.data === 'string' ? res.data : JSON.stringify(res.data, null, 2);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([body], { type }));
  a.download = `report-${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.${type === 'text/markdown' ? 'md' : 'json'}`;
  a.click();
  URL.revokeObjectURL(a.href);
}

export function Report({ id }) {
  const { data, error, loading } = useLive(async () => (await api('GET', `/v1/reports/${enc(id)}`)).data, [id], 5000);
  const [err, setErr] = useState(null);
  if (loading) return html`<${Loading} />`;
  if (!data)
    return html`<section>
      <h1>Delivery report</h1>
      <${ErrorBox} error=${error} />
    </section>`;
  const r = data;
  const c = r.closure ?? {};
  const save = (type) => () => download(id, type).catch(setErr);
  return html`<section class="report">
    <p class="crumbs">${link('#/runs', 'Runs')} › ${link(`#/runs/${enc(id)}`, 'run')} › report</p>
    <h1>Delivery report <${Status} value=${r.status === 'pending' ? 'pending' : c.verdict} /></h1>
    ${r.status === 'pending' ? html`<p class="notice" role="status">The verdict is known; the report is still being written.</p>` : null}
    <div class="toolbar">
      <button type="button" onClick=${save('text/markdown')}>Download Markdown</button>
      <button type="button" onClick=${save('application/json')}>Download JSON</button>
    </div>
    <${ErrorBox} error=${err} />
    <dl class="facts">
      <dt>Run</dt>
      <dd>${link(`#/runs/${enc(id)}`, id)}</dd>
      ${
        r.workflow
          ? html`<dt>Workflow</dt>
              <dd>${r.workflow.ref}@${r.workflow.version}</dd>`
          : null
      }
      ${
        r.strategy
          ? html`<dt>Strategy</dt>
              <dd>${r.strategy}</dd>`
          : null
      }
      <dt>Rule</dt>
      <dd><code>${c.rule}</code></dd>
      ${
        c.verdict_at
          ? html`<dt>Verdict at</dt>
              <dd>${when(c.verdict_at)}</dd>`
          : null
      }
      ${
        r.generated_at
          ? html`<dt>Written</dt>
              <dd>${when(r.generated_at)}</dd>`
          : null
      }
    </dl>
    <${ReportBody} r=${r} c=${c} />
  </section>`;
}

/** Checks, remediations, inquiries and the audit trail of a report. */
function ReportBody({ r, c }) {
  return html`
    <h2>Checks</h2>
    <table class="list">
      <thead>
        <tr>
          <th scope="col">Check</th>
          <th scope="col">Node</th>
          <th scope="col">Result</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        ${(c.checks ?? []).map(
          (k) =>
            html`<tr class=${k.passed ? '' : 'bad'}>
              <td>${k.kind}</td>
              <td>${k.node ?? '—'}</td>
              <td>${k.passed ? (k.remediated ? 'passed after remediation' : 'passed') : `failed (${k.severity})`}</td>
              <td>${k.detail}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h2>Remediations</h2>
    ${
      (c.remediations ?? []).length
        ? html`<ol>
            ${c.remediations.map((m) => html`<li>${m.do} ${m.node ?? ''} (attempt ${m.attempt}) on ${m.on}: <strong>${m.outcome}</strong> after ${m.latency_seconds}s — ${m.detail}</li>`)}
          </ol>`
        : html`<p>None were needed.</p>`
    }
    ${
      r.inquiries?.length
        ? html`<h2>Inquiries</h2>
            <ul>
              ${r.inquiries.map((q) => html`<li>${q.prompt || q.task}: ${q.status}${q.responded_by ? ` by ${q.responded_by}` : ''} <code>${JSON.stringify(q.response)}</code></li>`)}
            </ul>`
        : null
    }
    ${
      r.audit
        ? html`<h2>Audit trail</h2>
            <details>
              <summary>${r.audit.length} entries</summary>
              <${Json} value=${r.audit} />
            </details>`
        : null
    }
  `;
}
