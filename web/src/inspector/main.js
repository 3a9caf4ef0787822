// The memory inspector: sign in with a token, browse bots → users and
// conversations → one conversation, watch memory change live, edit with
// an editor token, manage bots and the janitor with an admin token.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html, Countdown, graphiqlHref, formatTime } from './ui.js';
import { gql, liveClient } from './api.js';
import { VIEWER } from './queries.js';
import { Session } from './live.js';
import { BotsView, BotView, UserView } from './browse.js';
import { ConversationView } from './conversation.js';
import { AdminView } from './admin.js';
import { readToken, storeToken, clearToken, takeTokenFromFragment, decodeJwt, looksLikeJwt } from '../common/token.js';

takeTokenFromFragment();

function useRoute() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || 'bots', id: parts[1] || null, hash };
}

function SignIn({ error, onToken }) {
  const [text, setText] = useState('');
  const trimmed = text.trim().replace(/^Bearer\s+/i, '');
  const bad = trimmed && !looksLikeJwt(trimmed);
  return html`<main id="main" class="signin" tabindex="-1">
    <h1>botmem inspector</h1>
    <p>Paste a botmem token (a JWT). The page keeps it in this tab's session storage and talks to this
      server's GraphQL API with it, so it can do exactly what the token allows and nothing more.</p>
    ${error && html`<div class="error" role="alert"><strong>${error.code || 'Error'}</strong>: ${error.message}</div>`}
    <form onSubmit=${(e) => { e.preventDefault(); if (trimmed && !bad) onToken(trimmed); }}>
      <label for="token">Token</label>
      <textarea id="token" name="token" rows="5" spellcheck="false" autocomplete="off" required
        aria-invalid=${bad ? 'true' : 'false'} aria-describedby="token-help"
        value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
      <p id="token-help" class=${bad ? 'field-error' : 'muted'}>
        ${bad ? 'This does not look like a JWT (three dot-separated parts).' : 'botmem token --tenant … --role viewer|editor|admin mints one; the development start prints a signed-in link.'}
      </p>
      <button type="submit" class="primary">Sign in</button>
    </form>
  </main>`;
}

function Header({ session, route, liveStatus, onSignOut }) {
  const { viewer, claims } = session;
  const link = (href, label, current) =>
    html`<a href=${href} aria-current=${current ? 'page' : undefined}>${label}</a>`;
  return html`<header class="top">
    <div class="brand"><a href="#/">botmem inspector</a></div>
    <nav aria-label="Main" class="main-nav">
      ${link('#/', 'Bots', ['bots', 'bot', 'user', 'conversation'].includes(route.name))}
      ${session.isAdmin && link('#/admin', 'Tenant & janitor', route.name === 'admin')}
      <a href=${graphiqlHref(session.viewQuery.query, session.viewQuery.variables)}
        title="Open GraphiQL with this view's query">Open in GraphiQL</a>
    </nav>
    <dl class="who" aria-label="Signed in as">
      <div><dt>Tenant</dt><dd data-testid="tenant">${viewer.tenant.id}</dd></div>
      <div><dt>Subject</dt><dd>${viewer.subject}</dd></div>
      <div><dt>Roles</dt><dd data-testid="roles">${viewer.roles.join(', ')}${viewer.bots ? ` (${viewer.bots.length} bots)` : ''}</dd></div>
      <div><dt>Expires</dt><dd>${claims?.exp ? html`<${Countdown} at=${new Date(claims.exp * 1000).toISOString()} />` : 'unknown'}</dd></div>
      <div><dt>Live</dt><dd><span class=${`live live-${liveStatus}`} data-testid="live" data-status=${liveStatus}>${liveStatus}</span></dd></div>
    </dl>
    <button type="button" onClick=${onSignOut}>Sign out</button>
  </header>`;
}

function ChangeLog({ entries, onClear }) {
  return html`<section class="changelog" aria-labelledby="changelog-title">
    <div class="changelog-head">
      <h2 id="changelog-title">Change log <span class="muted">(${entries.length} events since the page opened)</span></h2>
      ${entries.length > 0 && html`<button type="button" onClick=${onClear}>Clear</button>`}
    </div>
    ${entries.length === 0
      ? html`<p class="muted">Live events of the memories and the conversation shown appear here.</p>`
      : html`<ol class="log" reversed tabindex="0" aria-labelledby="changelog-title">
          ${entries.map(
            (e) => html`<li key=${e.seq}>
              <time datetime=${e.at}>${formatTime(e.at)}</time>
              <span class=${`op op-${e.kind.toLowerCase()}`}>${e.kind}</span>
              <code>${e.what}</code> <span class="detail">${e.detail}</span>
            </li>`,
          )}
        </ol>`}
  </section>`;
}

function App() {
  const [token, setToken] = useState(readToken());
  const [viewer, setViewer] = useState(null);
  const [signInError, setSignInError] = useState(null);
  const [liveStatus, setLiveStatus] = useState('idle');
  const [reconnects, setReconnects] = useState(0);
  const [notices, setNotices] = useState([]);
  const [log, setLog] = useState([]);
  const [viewQuery, setViewQuery] = useState({ query: VIEWER, variables: {} });
  const seq = useRef(0);
  const route = useRoute();

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    gql(token, VIEWER).then(
      (data) => !cancelled && setViewer(data.viewer),
      (e) => {
        if (cancelled) return;
        if (e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN') {
          clearToken();
          setToken('');
        }
        setSignInError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [token]);

  const live = useMemo(() => {
    if (!token || !viewer) return null;
    return liveClient(token, (status, wasRetry) => {
      setLiveStatus(status);
      if (status === 'live' && wasRetry) setReconnects((n) => n + 1);
    });
  }, [token, viewer]);
  useEffect(() => () => live?.dispose(), [live]);

  // A new view: focus moves to its content, for keyboard and screen readers.
  const main = useRef(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [route.hash]);

  if (!token || (!viewer && signInError))
    return html`<${SignIn} error=${signInError} onToken=${(t) => {
      storeToken(t);
      setSignInError(null);
      setViewer(null);
      setToken(t);
    }} />`;
  if (!viewer) return html`<p class="muted" role="status">Signing in…</p>`;

  const roles = viewer.roles;
  const session = {
    token,
    viewer,
    claims: decodeJwt(token),
    canEdit: roles.includes('EDITOR') || roles.includes('ADMIN'),
    isAdmin: roles.includes('ADMIN'),
    live,
    reconnects,
    viewQuery,
    setViewQuery,
    notify: (text, kind = 'info') =>
      setNotices((n) => [...n.slice(-2), { id: ++seq.current, text, kind, at: new Date().toISOString() }]),
    addLog: (entry) => setLog((l) => [{ ...entry, seq: ++seq.current }, ...l].slice(0, 500)),
  };
  const signOut = () => {
    clearToken();
    setViewer(null);
    setToken('');
    setLog([]);
    setNotices([]);
    location.hash = '';
  };

  let view;
  if (route.name === 'bot' && route.id) view = html`<${BotView} key=${route.id} id=${route.id} />`;
  else if (route.name === 'user' && route.id) view = html`<${UserView} key=${route.id} id=${route.id} />`;
  else if (route.name === 'conversation' && route.id) view = html`<${ConversationView} key=${route.id} id=${route.id} />`;
  else if (route.name === 'admin') view = session.isAdmin ? html`<${AdminView} />` : html`<p>Only admin tokens manage the tenant.</p>`;
  else view = html`<${BotsView} />`;

  return html`<${Session.Provider} value=${session}>
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); main.current?.focus(); }}>Skip to content</a>
    <${Header} session=${session} route=${route} liveStatus=${liveStatus} onSignOut=${signOut} />
    <div class="notices" role="status" aria-live="polite">
      ${notices.map(
        (n) => html`<p key=${n.id} class=${`notice notice-${n.kind}`}>
          ${n.text}
          <button type="button" class="link" aria-label="Dismiss" onClick=${() => setNotices((all) => all.filter((x) => x.id !== n.id))}>×</button>
        </p>`,
      )}
    </div>
    <main id="main" ref=${main} tabindex="-1">${view}</main>
    <${ChangeLog} entries=${log} onClear=${() => setLog([])} />
  </${Session.Provider}>`;
}

render(html`<${App} />`, document.getElementById('root'));
