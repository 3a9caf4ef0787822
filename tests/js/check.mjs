// The reference client `graphql-ws` against a running botmem:
//   node check.mjs <http base> <admin token> <bot id>
// Exits 0 when every check passes; prints what failed otherwise.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [base, token, bot] = process.argv.slice(2);
const url = base.replace(/^http/, 'ws') + '/graphql/ws';

function client(connectionParams) {
  return createClient({ url, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

async function gql(query, variables) {
  const response = await fetch(base + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const set = (name, value) =>
  gql(`mutation($bot: UUID!, $name: String!, $value: JSON!) {
         setVariable(input: { ref: { scope: BOT, botId: $bot }, name: $name, value: $value }) { version } }`,
      { bot, name, value });

const withTimeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms))]);

async function memoryEvents() {
  const c = client({ Authorization: `Bearer ${token}` });
  const received = [];
  let failure = null;
  const unsubscribe = c.subscribe(
    {
      query: `subscription($bot: UUID!) { memoryChanged(botId: $bot) { op name value version memoryVersion } }`,
      variables: { bot },
    },
    { next: (v) => received.push(v), error: (e) => (failure = e), complete: () => {} },
  );
  const seen = async (predicate, ms) => {
    for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
      if (failure) throw new Error('subscription failed: ' + JSON.stringify(failure));
      const found = received.find((r) => predicate(r.data?.memoryChanged));
      if (found) return found.data.memoryChanged;
      await new Promise((r) => setTimeout(r, 20));
    }
    return null;
  };
  // Live once a probe comes back (a subscription starts a moment after `subscribe`).
  let live = false;
  for (let k = 0; k < 100 && !live; k++) {
    await set('probe', `probe-${k}`);
    live = (await seen((e) => e?.value === `probe-${k}`, 300)) !== null;
  }
  if (!live) throw new Error('subscription never went live');
  await set('greeting', { text: 'hello' });
  const e = await seen((e) => e?.name === 'greeting', 5000);
  if (!e || e.op !== 'SET' || e.value.text !== 'hello' || e.version !== 1) {
    throw new Error('unexpected event ' + JSON.stringify(e));
  }
  unsubscribe();
  await c.dispose();
  return 'memoryChanged delivered a SET with its value and version';
}

async function queryOverSocket() {
  const c = client({ token });
  const result = await withTimeout(
    new Promise((resolve, reject) => {
      let data;
      c.subscribe({ query: '{ viewer { subject roles } }' }, {
        next: (v) => (data = v),
        error: reject,
        complete: () => resolve(data),
      });
    }),
    5000,
    'viewer query',
  );
  await c.dispose();
  if (!result?.data?.viewer?.roles?.includes('ADMIN')) throw new Error('viewer ' + JSON.stringify(result));
  return 'a query over the socket completes (token in {"token": ...})';
}

async function refusedToken() {
  const c = client({ Authorization: 'Bearer not-a-token' });
  const closed = await withTimeout(
    new Promise((resolve) => {
      c.subscribe({ query: `subscription($bot: UUID!) { memoryChanged(botId: $bot) { op } }`, variables: { bot } }, {
        next: () => resolve('unexpected data'),
        error: (e) => resolve(e),
        complete: () => resolve('unexpected completion'),
      });
    }),
    5000,
    'refusal',
  );
  await c.dispose();
  if (closed?.code !== 4403) throw new Error('expected close 4403, got ' + (closed?.code ?? String(closed)));
  return 'a bad token is refused with close code 4403';
}

async function unknownBot() {
  const c = client({ Authorization: `Bearer ${token}` });
  const errors = await withTimeout(
    new Promise((resolve) => {
      c.subscribe({ query: `subscription { memoryChanged(botId: "00000000-0000-0000-0000-000000000000") { op } }` }, {
        next: () => resolve('unexpected data'),
        error: (e) => resolve(e),
        complete: () => resolve('unexpected completion'),
      });
    }),
    5000,
    'unknown bot',
  );
  await c.dispose();
  if (!Array.isArray(errors) || errors[0]?.extensions?.code !== 'NOT_FOUND') {
    throw new Error('expected NOT_FOUND errors, got ' + JSON.stringify(errors));
  }
  return 'an unknown bot is an error message with code NOT_FOUND';
}

let failed = false;
for (const check of [memoryEvents, queryOverSocket, refusedToken, unknownBot]) {
  try {
    console.log('ok   ' + (await check()));
  } catch (e) {
    failed = true;
    console.log(`FAIL ${check.name}: ${e?.stack ?? e}`);
  }
}
process.exit(failed ? 1 : 0);
