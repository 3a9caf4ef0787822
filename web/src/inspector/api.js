// The public GraphQL API, and nothing else: queries and mutations over
// HTTP POST /graphql, subscriptions over /graphql/ws (graphql-ws), both
// with the signed-in token.
import { createClient } from 'graphql-ws';

/// A GraphQL error response: `code` is the first error's
/// `extensions.code` (UNAUTHENTICATED, FORBIDDEN, CONFLICT, …).
export class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code || 'ERROR';
  }
}

export async function gql(token, query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json;q=0.9',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError([{ message: `the server cannot be reached (${e.message})`, extensions: { code: 'NETWORK' } }]);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError([{ message: `HTTP ${response.status} without a GraphQL body`, extensions: { code: 'HTTP' } }]);
  }
  if (body.errors?.length) throw new ApiError(body.errors);
  return body.data;
}

/// One WebSocket for the signed-in page, reconnecting with a backoff.
/// `onStatus(status, wasRetry)` hears 'connecting', 'live', 'reconnecting'
/// and 'closed'.
export function liveClient(token, onStatus) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createClient({
    url: `${scheme}//${location.host}/graphql/ws`,
    connectionParams: { Authorization: `Bearer ${token}` },
    // Open while signed in, across changes of view. (Lazy mode would close
    // and reopen it on a change of view: graphql-ws 6 starts one close
    // timer per released subscription and cancels only the last.)
    lazy: false,
    onNonLazyError: () => onStatus('closed', false),
    retryAttempts: Infinity,
    // A refused token (4403) will not be accepted on a retry either.
    shouldRetry: (e) => e?.code !== 4403,
    retryWait: (n) => new Promise((r) => setTimeout(r, Math.min(500 * 2 ** n, 10000))),
    on: {
      connecting: (isRetry) => onStatus(isRetry ? 'reconnecting' : 'connecting', isRetry),
      connected: (_socket, _payload, wasRetry) => onStatus('live', wasRetry),
      closed: () => onStatus('closed', false),
    },
  });
}

/// Subscribes; `onEvent(data)` for each result, `onEnd(errors|null)` when
/// the stream ends (errors for SUBSCRIPTION_LAGGED, an expired token, a
/// refusal). Returns the function that unsubscribes.
export function subscribe(client, query, variables, onEvent, onEnd) {
  let ended = false;
  let errors = null;
  const dispose = client.subscribe(
    { query, variables },
    {
      next: (result) => {
        if (result.errors?.length) errors = result.errors;
        if (result.data) onEvent(result.data);
      },
      error: (e) => {
        if (ended) return;
        ended = true;
        onEnd(Array.isArray(e) ? e : [{ message: e?.reason || e?.message || 'the connection failed', extensions: { code: 'NETWORK' } }]);
      },
      complete: () => {
        if (ended) return;
        ended = true;
        onEnd(errors);
      },
    },
  );
  // Unsubscribing completes the sink too: that is no end to report.
  return () => {
    ended = true;
    dispose();
  };
}

export const errorCode = (errors) => errors?.[0]?.extensions?.code || null;
