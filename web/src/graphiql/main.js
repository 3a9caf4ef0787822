// GraphiQL, served from the binary: no CDN. The token comes from the
// inspector's sign-in (sessionStorage) or the prompt here and fills the
// Authorization header; subscriptions go over /graphql/ws with the header
// in connection_init. `#query=…&variables=…` (the inspector's links) fills
// the editors; the token is never put in a URL.
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createClient } from 'graphql-ws';
import { parse } from 'graphql';
import htm from 'htm';
import 'graphiql/graphiql.css';
import './graphiql.css';
import { readToken, storeToken, clearToken, takeTokenFromFragment, fragmentParams, decodeJwt, looksLikeJwt } from '../common/token.js';

const html = htm.bind(React.createElement);

takeTokenFromFragment();
// A query handed over by the inspector, read once.
const handed = fragmentParams();
const initialQuery = handed?.get('query') ?? undefined;
const initialVariables = handed?.get('variables') ?? undefined;
if (handed) history.replaceState(null, '', location.pathname + location.search);

function headerValue(headers, name) {
  const key = Object.keys(headers || {}).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

/// The request to send, and whether it is a subscription. GraphiQL's own
/// parse of the editor can lag behind its text (an operation name that the
/// text no longer has), so the query is parsed here; a lone operation is
/// run whatever name GraphiQL thought it had.
function prepare(params) {
  let operations;
  try {
    operations = parse(params.query).definitions.filter((d) => d.kind === 'OperationDefinition');
  } catch {
    return { params, subscription: false };
  }
  let op = params.operationName ? operations.find((d) => d.name?.value === params.operationName) : operations[0];
  if (!op && operations.length === 1) {
    op = operations[0];
    params = { ...params, operationName: op.name?.value ?? null };
  }
  return { params, subscription: op?.operation === 'subscription' };
}

/// HTTP for queries and mutations, graphql-ws for subscriptions; both with
/// the headers of GraphiQL's headers editor.
function createFetcher() {
  let ws = null;
  let wsAuthorization = null;
  const socket = (authorization) => {
    if (ws && wsAuthorization === authorization) return ws;
    ws?.dispose();
    wsAuthorization = authorization;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = createClient({
      url: `${scheme}//${location.host}/graphql/ws`,
      connectionParams: authorization ? { Authorization: authorization } : {},
      lazy: true,
      retryAttempts: 2,
    });
    return ws;
  };
  return async (request, options = {}) => {
    const headers = options.headers || {};
    const { params, subscription } = prepare(request);
    if (subscription) {
      return socket(headerValue(headers, 'authorization')).iterate(params);
    }
    let response;
    try {
      response = await fetch('/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json;q=0.9',
          ...headers,
        },
        body: JSON.stringify(params),
      });
    } catch (e) {
      return { errors: [{ message: `The server cannot be reached: ${e.message}` }] };
    }
    const text = await response.text();
    try {
      const body = JSON.parse(text);
      if (body.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED') {
        body.errors[0].message += ' — use "Change token" above, or edit the Authorization header below.';
      }
      return body;
    } catch {
      return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 200)}` }] };
    }
  };
}

function TokenPrompt({ onToken }) {
  const [text, setText] = useState('');
  const token = text.trim().replace(/^Bearer\s+/i, '');
  const bad = token !== '' && !looksLikeJwt(token);
  return html`<main class="token-prompt">
    <h1>botmem GraphiQL</h1>
    <p>botmem answers only requests that carry a token. Paste one: it is kept in this tab's session storage,
      sent as <code>Authorization: Bearer …</code> on every request and in <code>connection_init</code> for
      subscriptions. Signing in to the <a href="/inspector">inspector</a> signs in here too.</p>
    <form onSubmit=${(e) => { e.preventDefault(); if (token && !bad) onToken(token); }}>
      <label htmlFor="token">Token</label>
      <textarea id="token" rows="5" spellCheck="false" autoComplete="off" required aria-invalid=${bad}
        aria-describedby="token-help" value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
      <p id="token-help" className=${bad ? 'field-error' : 'muted'}>
        ${bad ? 'This does not look like a JWT (three dot-separated parts).' : 'botmem token --tenant … --role viewer|editor|admin mints one.'}
      </p>
      <button type="submit">Use this token</button>
      ${' '}<button type="button" onClick=${() => onToken('')}>Continue without a token</button>
    </form>
  </main>`;
}

function App() {
  const [token, setToken] = useState(readToken);
  const [prompt, setPrompt] = useState(!readToken());
  const [fetcher] = useState(createFetcher);
  if (prompt)
    return html`<${TokenPrompt} onToken=${(t) => {
      if (t) storeToken(t);
      setToken(t);
      setPrompt(false);
    }} />`;
  const claims = token ? decodeJwt(token) : null;
  const headers = JSON.stringify(token ? { Authorization: `Bearer ${token}` } : {}, null, 2);
  return html`<div class="page">
    <header class="bar">
      <strong>botmem GraphiQL</strong>
      <span>${token ? `Signed in${claims?.tenant ? ` · tenant ${claims.tenant}` : ''}${claims?.roles ? ` · ${[].concat(claims.roles).join(', ')}` : ''}` : 'No token'}</span>
      <button type="button" onClick=${() => setPrompt(true)}>Change token</button>
      ${token && html`<button type="button" onClick=${() => { clearToken(); setToken(''); setPrompt(true); }}>Sign out</button>`}
      <a href="/inspector">Inspector</a>
    </header>
    <div class="graphiql-host">
      <${GraphiQL}
        key=${token}
        fetcher=${fetcher}
        headers=${headers}
        query=${initialQuery}
        variables=${initialVariables}
        defaultEditorToolsVisibility=${initialVariables ? 'variables' : 'headers'}
        shouldPersistHeaders=${false}
      />
    </div>
  </div>`;
}

createRoot(document.getElementById('root')).render(html`<${App} />`);
