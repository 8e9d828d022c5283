// Small shared pieces: html, live data, times, status badges, error boxes, JSON with secrets masked.
import { h } from './vendor/preact.mjs';
import { useEffect, useState, useCallback, useRef } from './vendor/hooks.mjs';
import htm from './vendor/htm.mjs';

export const html = htm.bind(h);

/** Loads `load()` now and every `everyMs` (live views), and on demand with `reload()`. */
export function useLive(load, deps = [], everyMs = 3000) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const alive = useRef(true);
  const reload = useCallback(async () => {
    try {
      const data = await load();
      if (alive.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (alive.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    alive.current = true;
    setState({ data: null, error: null, loading: true });
    void reload();
    const t = everyMs ? setInterval(reload, everyMs) : null;
    return () => {
      alive.current = false;
      if (t) clearInterval(t);
    };
  }, [reload]);
  return { ...state, reload };
}

/** Re-renders every second (countdowns). */
export function useTick() {
  const [, set] = useState(0);
  useEffect(() => {
    const t = setInterval(() => set((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, []);
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

export function duration(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** "in 4m 10s" or "overdue by 2m", for deadlines and SLAs. */
export function Countdown({ to, label }) {
  useTick();
  if (!to) return null;
  const left = new Date(to).getTime() - Date.now();
  const text = left >= 0 ? `in ${duration(left)}` : `overdue by ${duration(left)}`;
  return html`<span class=${`countdown ${left < 0 ? 'overdue' : left < 300000 ? 'soon' : ''}`} title=${when(to)}>${label ? `${label} ` : ''}${text}</span>`;
}

export const Status = ({ value }) => html`<span class=${`status status-${String(value ?? 'unknown').replace(/[^a-z_]/g, '')}`}>${value ?? 'unknown'}</span>`;

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>${error.code ?? 'error'}</strong>: ${error.message}
    ${
      error.details?.length
        ? html`<ul>
            ${error.details.map((d) => html`<li>${d.location ? html`<code>${d.location}</code> ` : ''}${d.message ?? ''}</li>`)}
          </ul>`
        : null
    }
  </div>`;
}

export const Json = ({ value }) => html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;

export const Loading = () => html`<p class="loading" aria-live="polite">Loading…</p>`;

/** A button that runs an async action, shows it is busy, and reports the error next to itself. */
export function Action({ label, run, kind = '', confirm: ask, disabled }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const click = async () => {
    if (ask && !window.confirm(ask)) return;
    setBusy(true);
    setError(null);
    try {
      await run();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="action"
    ><button type="button" class=${kind} onClick=${click} disabled=${busy || disabled}>${busy ? `${label}…` : label}</button><${ErrorBox} error=${error}
  /></span>`;
}

export const link = (hash, text) => html`<a href=${hash}>${text}</a>`;
