// One run: summary, live task graph, task runs and attempts, closure verdict, audit coverage, and the
// controls its roles allow (pause, resume, cancel, retry from failed or chosen tasks, with corrected
// parameters, or only the failed items).
import { useState } from './vendor/hooks.mjs';
import { get, post, enc } from './api.js';
import { html, useLive, Status, ErrorBox, Loading, Json, Action, when, link, duration } from './ui.js';
import { Graph } from './graph.js';

const ENDED = ['succeeded', 'failed', 'timed_out', 'cancelled'];

export function Run({ id, can }) {
  const summary = useLive(() => get(`/v1/executions/${enc(id)}`), [id], 2000);
  const graph = useLive(() => get(`/v1/executions/${enc(id)}/graph`), [id], 2000);
  const tasks = useLive(() => get(`/v1/executions/${enc(id)}/tasks`), [id], 3000);
  const context = useLive(() => get(`/v1/executions/${enc(id)}/context`), [id], 5000);
  const s = summary.data;
  if (summary.loading) return html`<${Loading} />`;
  if (!s)
    return html`<section>
      <h1>Run</h1>
      <${ErrorBox} error=${summary.error} />
    </section>`;
  const ended = ENDED.includes(s.status);
  const control = (what) => async () => {
    await post(`/v1/executions/${enc(id)}/${what}`);
    await summary.reload();
  };
  return html`<section>
    <p class="crumbs">${link('#/runs', 'Runs')} › run</p>
    <h1><code>${s.id}</code> <${Status} value=${s.status} /></h1>
    <dl class="facts">
      <dt>Workflow</dt>
      <dd>${s.workflow}@${s.version}</dd>
      ${
        s.strategy
          ? html`<dt>Strategy</dt>
              <dd>${s.strategy}</dd>`
          : null
      }
      ${
        s.retry_of
          ? html`<dt>Retry of</dt>
              <dd>${link(`#/runs/${enc(s.retry_of)}`, s.retry_of)}</dd>`
          : null
      }
      <dt>Started</dt>
      <dd>${when(s.started_at)}</dd>
      <dt>Ended</dt>
      <dd>${when(s.ended_at)}${s.ended_at ? ` (${duration(new Date(s.ended_at) - new Date(s.started_at))})` : ''}</dd>
      ${
        s.error
          ? html`<dt>Error</dt>
              <dd class="bad">${s.error.type ? html`<code>${s.error.type}</code> ` : null}${s.error.message}</dd>`
          : null
      }
      ${
        s.audit
          ? html`<dt>Audit coverage</dt>
              <dd>${Math.round((s.audit.coverage ?? 0) * 100)}% of the history's facts have their audit row</dd>`
          : null
      }
    </dl>
    ${
      can('operator')
        ? html`<div class="toolbar" role="group" aria-label="Run controls">
            ${!ended && s.status !== 'paused' ? html`<${Action} label="Pause" run=${control('pause')} />` : null}
            ${s.status === 'paused' ? html`<${Action} label="Resume" run=${control('resume')} />` : null}
            ${!ended ? html`<${Action} label="Cancel run" kind="danger" confirm="Cancel this run?" run=${control('cancel')} />` : null}
          </div>`
        : null
    }
    ${can('operator') && ended && s.status !== 'succeeded' ? html`<${Retry} run=${s} context=${context.data} />` : null}
    <h2>Graph</h2>
    <${ErrorBox} error=${graph.error} />
    <${Graph} graph=${graph.data} />
    <h2>Tasks</h2>
    <${Tasks} summary=${s} runs=${tasks.data?.task_runs ?? []} />
    ${s.closure ? html`<${Closure} closure=${s.closure} id=${id} />` : null}
    <h2>Output</h2>
    <${Json} value=${s.output} />
    <h2>Variables and parameters</h2>
    <p class="help">Secret parameters are shown as ***.</p>
    ${context.data ? html`<${Json} value=${context.data} />` : html`<${ErrorBox} error=${context.error} />`}
  </section>`;
}

function Tasks({ summary, runs }) {
  return html`<table class="list">
    <thead>
      <tr>
        <th scope="col">Task</th>
        <th scope="col">Status</th>
        <th scope="col">Runs · attempts</th>
        <th scope="col">Items</th>
        <th scope="col">Result or error</th>
      </tr>
    </thead>
    <tbody>
      ${summary.tasks.map((t) => {
        const mine = runs.filter((r) => r.task === t.name);
        return html`<tr key=${t.name}>
          <th scope="row"><code>${t.name}</code></th>
          <td><${Status} value=${t.status} /></td>
          <td>
            ${t.runs ?? mine.length} · ${t.attempts}
            ${
              mine.length
                ? html`<details>
                    <summary>attempts</summary>
                    <ol>
                      ${mine.flatMap((r) =>
                        r.attempts.map(
                          (a) =>
                            html`<li>
                              run ${r.run}, attempt ${a.attempt}${a.index !== undefined ? ` (item ${a.index})` : ''}: ${a.status} at
                              ${when(a.at)}${a.error ? html` — <span class="bad">${a.error.message}</span>` : null}
                            </li>`,
                        ),
                      )}
                    </ol>
                  </details>`
                : null
            }
          </td>
          <td>${t.items ? `${t.items.succeeded}/${t.items.total} succeeded${t.items.failed ? `, ${t.items.failed} failed` : ''}` : '—'}</td>
          <td>
            ${
              t.error
                ? html`<span class="bad">${t.error.message}</span>`
                : html`<details>
                    <summary>result</summary>
                    <${Json} value=${t.result} />
                  </details>`
            }
          </td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

function Closure({ closure, id }) {
  return html`<h2>Closure</h2>
    <p>Rule <code>${closure.rule}</code>: verdict <${Status} value=${closure.verdict} /> · ${link(`#/reports/${enc(id)}`, 'Delivery report')}</p>
    <ul class="checks">
      ${(closure.checks ?? []).map(
        (c) =>
          html`<li class=${c.passed ? '' : 'bad'}>
            <code>${c.kind}</code>${c.node ? html` <code>${c.node}</code>` : null}:
            ${c.passed ? (c.remediated ? 'passed after remediation' : 'passed') : `failed (${c.severity})`} ${c.detail ? ` — ${c.detail}` : ''}
          </li>`,
      )}
    </ul>`;
}

/** Only the parameters the operator changed are sent (secrets show as *** and are kept unless retyped). */
function changed(before, after) {
  return Object.fromEntries(Object.entries(after).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before?.[k])));
}

function Retry({ run, context }) {
  const failed = run.tasks.filter((t) => ['failed', 'timed_out', 'cancelled'].includes(t.status)).map((t) => t.name);
  const [from, setFrom] = useState(failed);
  const [params, setParams] = useState(null);
  const [onlyItems, setOnlyItems] = useState(false);
  const [error, setError] = useState(null);
  const hasFailedItems = run.tasks.some((t) => t.items?.failed);
  const text = params ?? JSON.stringify(context?.parameters ?? {}, null, 2);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      setError({ code: 'bad_json', message: `Parameters are not valid JSON: ${err.message}`, details: [{ location: 'parameters' }] });
      return;
    }
    const overrides = changed(context?.parameters, parsed);
    try {
      const out = await post(`/v1/executions/${enc(run.id)}/retry`, {
        from,
        ...(Object.keys(overrides).length ? { parameters: overrides } : {}),
        ...(onlyItems ? { items: 'failed' } : {}),
      });
      location.hash = `#/runs/${enc(out.execution_id)}`;
    } catch (err) {
      setError(err);
    }
  };
  const toggle = (name) => (e) => setFrom((f) => (e.target.checked ? [...f, name] : f.filter((x) => x !== name)));
  return html`<form class="retry" onSubmit=${submit} aria-labelledby="retry-title">
    <h2 id="retry-title">Retry</h2>
    <fieldset>
      <legend>Start again from</legend>
      ${run.tasks.map(
        (t) =>
          html`<label class="inline"
            ><input type="checkbox" checked=${from.includes(t.name)} onChange=${toggle(t.name)} /> ${t.name} <${Status} value=${t.status}
          /></label>`,
      )}
    </fieldset>
    ${
      hasFailedItems
        ? html`<label class="inline"
            ><input type="checkbox" checked=${onlyItems} onChange=${(e) => setOnlyItems(e.target.checked)} /> Re-run only the failed items</label
          >`
        : null
    }
    <label for="retry-parameters">Parameters (JSON; only what you change is sent)</label>
    <textarea id="retry-parameters" rows="6" value=${text} onInput=${(e) => setParams(e.target.value)}></textarea>
    <${ErrorBox} error=${error} />
    <button type="submit" disabled=${!from.length}>Retry run</button>
  </form>`;
}
