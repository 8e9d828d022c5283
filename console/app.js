// The console shell: sign-in, navigation, and a hash router (#/runs/<id>) so every page has a stable link.
import { render } from './vendor/preact.mjs';
import { useEffect, useState } from './vendor/hooks.mjs';
import { api, get, session, onUnauthenticated } from './api.js';
import { html, ErrorBox } from './ui.js';
import { Approvals, Inquiry } from './approvals.js';
import { Runs } from './runs.js';
import { Run } from './run.js';
import { Incidents, Incident } from './incidents.js';
import { Report } from './reports.js';
import { Events } from './events.js';
import { Strategies } from './strategies.js';

const PAGES = [
  ['approvals', 'Approvals'],
  ['runs', 'Runs'],
  ['incidents', 'Incidents'],
  ['events', 'Events'],
  ['strategies', 'Strategies'],
];

/** What the signed-in key may do: the same rule as the API's role guard. */
export const canFor = (me) => (role) => !!me && (me.roles.includes('admin') || me.roles.includes(role) || role === 'viewer');

function useHash() {
  const [hash, setHash] = useState(location.hash || '#/approvals');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/approvals');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function SignIn({ onSignedIn, reason }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const me = await get('/v1/me', { key: key.trim() });
      session.signIn(key.trim());
      onSignedIn(me);
    } catch (err) {
      setError(err.status === 401 ? { code: 'unauthenticated', message: 'That API key is not known, or its tenant is inactive.' } : err);
    }
  };
  return html`<main class="signin">
    <h1>Closeloop console</h1>
    ${reason ? html`<p class="notice" role="status">${reason}</p>` : null}
    <form onSubmit=${submit}>
      <label for="api-key">API key</label>
      <input id="api-key" type="password" autocomplete="off" required value=${key} onInput=${(e) => setKey(e.target.value)} />
      <p class="help">The key stays in this tab only and is forgotten when the tab closes.</p>
      <button type="submit">Sign in</button>
      <${ErrorBox} error=${error} />
    </form>
  </main>`;
}

function page(hash, me) {
  const [, name, id] = hash.split('/').map((p) => decodeURIComponent(p));
  const can = canFor(me);
  switch (name) {
    case 'approvals':
      return html`<${Approvals} me=${me} can=${can} />`;
    case 'inquiries':
      return html`<${Inquiry} id=${id} me=${me} can=${can} />`;
    case 'runs':
      return id ? html`<${Run} id=${id} can=${can} />` : html`<${Runs} />`;
    case 'incidents':
      return id ? html`<${Incident} id=${id} can=${can} />` : html`<${Incidents} />`;
    case 'reports':
      return html`<${Report} id=${id} />`;
    case 'events':
      return html`<${Events} can=${can} />`;
    case 'strategies':
      return html`<${Strategies} me=${me} can=${can} />`;
    default:
      return html`<p>No such page. <a href="#/approvals">Go to approvals</a>.</p>`;
  }
}

function App() {
  const [me, setMe] = useState(null);
  const [checking, setChecking] = useState(!!session.key());
  const [reason, setReason] = useState(null);
  const hash = useHash();
  useEffect(() => {
    onUnauthenticated(() => {
      session.signOut();
      setMe(null);
      setReason('Your session ended: sign in again.');
    });
    if (!session.key()) return;
    api('GET', '/v1/me')
      .then((r) => setMe(r.data))
      .catch(() => session.signOut())
      .finally(() => setChecking(false));
  }, []);
  if (checking) return html`<p class="loading">Loading…</p>`;
  if (!me) return html`<${SignIn} onSignedIn=${(m) => (setReason(null), setMe(m))} reason=${reason} />`;
  const signOut = () => {
    session.signOut();
    setMe(null);
  };
  const current = hash.split('/')[1];
  const active = current === 'inquiries' ? 'approvals' : current === 'reports' ? 'runs' : current;
  return html`<div class="shell">
    <header>
      <span class="brand">Closeloop</span>
      <nav aria-label="Console">${PAGES.map(([p, label]) => html`<a href=${`#/${p}`} aria-current=${active === p ? 'page' : undefined}>${label}</a>`)}</nav>
      <span class="who">${me.key_id} · ${me.tenant} · ${me.roles.join(', ')}</span>
      <button type="button" class="link" onClick=${signOut}>Sign out</button>
    </header>
    <main>${page(hash, me)}</main>
  </div>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the loading line the page shows before this module runs
render(html`<${App} />`, root);
