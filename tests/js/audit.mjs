// The GraphQL-over-HTTP audit of npm graphql-http (pinned in package.json)
// against a running botmem: node audit.mjs BASE_URL TOKEN. Prints one line
// per audit ("ok", "warn" or "error", its id and name) and exits non-zero
// unless every MUST and SHOULD passes. Started by tests/graphql_http.rs.
import { serverAudits } from 'graphql-http';

const [base, token] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

let failed = 0;
for (const audit of serverAudits({ url: `${base}/graphql`, fetchFn })) {
  const result = await audit.fn();
  if (result.status !== 'ok') failed += 1;
  const why = result.status === 'ok' ? '' : ` -- ${result.reason}`;
  console.log(`${result.status} ${audit.id} ${audit.name}${why}`);
}
process.exit(failed ? 1 : 0);
