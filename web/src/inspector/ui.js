// Small shared pieces: htm bound to Preact, times, JSON values, pagers.
// Everything is rendered as text nodes; no HTML string is ever parsed.
import { h } from 'preact';
import { useEffect, useState, useCallback, useRef } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

// ---- time -------------------------------------------------------------

const tickers = new Set();
setInterval(() => tickers.forEach((f) => f(Date.now())), 1000);

/// The current time, re-rendering the caller every second.
export function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    tickers.add(setNow);
    return () => tickers.delete(setNow);
  }, []);
  return now;
}

/// "2030-01-15 12:00:03Z": compact, unambiguous, the same on every machine.
export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function formatSpan(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (d) return `${d}d ${hh}h`;
  if (hh) return `${hh}h ${mm}m`;
  if (mm) return `${mm}m ${ss}s`;
  return `${ss}s`;
}

export function Time({ at }) {
  return html`<time datetime=${at || ''}>${formatTime(at)}</time>`;
}

/// A live countdown to `at`, or "never".
export function Countdown({ at, never = 'never' }) {
  const now = useNow();
  if (!at) return html`<span class="muted">${never}</span>`;
  const left = new Date(at).getTime() - now;
  return html`<time class=${left <= 0 ? 'countdown expired' : left < 60000 ? 'countdown soon' : 'countdown'}
      datetime=${at} title=${formatTime(at)}>
    ${left <= 0 ? `expired ${formatSpan(-left)} ago` : `in ${formatSpan(left)}`}
  </time>`;
}

// ---- JSON -------------------------------------------------------------

const LONG = 160;

/// A value as pretty JSON; a long one is collapsed behind its first line.
export function JsonValue({ value }) {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  const lines = text.split('\n').length;
  if (text.length <= LONG && lines <= 6) return html`<pre class="json">${text}</pre>`;
  const preview = JSON.stringify(value).slice(0, 60);
  return html`<details class="json-long">
    <summary><code>${preview}…</code> <span class="muted">(${text.length} characters, ${lines} lines)</span></summary>
    <pre class="json" tabindex="0">${text}</pre>
  </details>`;
}

/// One line of a value for the change log.
export function shortJson(value, max = 80) {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

// ---- loading ----------------------------------------------------------

/// Runs `load()` when `deps` change; `reload()` runs it again, keeping the
/// data shown meanwhile. `set` replaces the data (for live updates).
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    return load().then(
      (data) => mine === generation.current && setState({ data, error: null, loading: false }),
      (error) => mine === generation.current && setState((s) => ({ ...s, error, loading: false })),
    );
  }, deps);
  useEffect(() => {
    setState({ data: null, error: null, loading: true });
    run();
  }, [run]);
  const set = useCallback((f) => setState((s) => ({ ...s, data: typeof f === 'function' ? f(s.data) : f })), []);
  return { ...state, reload: run, set };
}

/// Forward-only cursors kept as a stack, so "Previous" goes back.
export function usePager() {
  const [cursors, setCursors] = useState([null]);
  const after = cursors[cursors.length - 1];
  return {
    after,
    page: cursors.length,
    next: (endCursor) => setCursors((c) => [...c, endCursor]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    reset: () => setCursors([null]),
  };
}

export function Pager({ pager, pageInfo, total, label }) {
  if (!pageInfo) return null;
  return html`<nav class="pager" aria-label=${`${label} pages`}>
    <button type="button" onClick=${pager.previous} disabled=${pager.page === 1}>← Previous</button>
    <span>Page ${pager.page}${total != null ? ` · ${total} in all` : ''}</span>
    <button type="button" onClick=${() => pager.next(pageInfo.endCursor)} disabled=${!pageInfo.hasNextPage}>Next →</button>
  </nav>`;
}

export function ErrorBox({ error, children }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>${error.code || 'Error'}</strong>: ${error.message}${children}
  </div>`;
}

export function Loading({ what }) {
  return html`<p class="muted" role="status">Loading ${what}…</p>`;
}

/// A link to GraphiQL with `query` and `variables` in the fragment (never
/// the token; GraphiQL reads it from sessionStorage).
export function graphiqlHref(query, variables) {
  const params = new URLSearchParams();
  params.set('query', query);
  if (variables && Object.keys(variables).length) params.set('variables', JSON.stringify(variables, null, 2));
  return '/graphiql#' + params.toString();
}
