// The web pages in a real browser: Debian's Chromium driven by
// playwright-core (no browser download), against a botmem started by
// tests/inspector.rs:
//   node inspector.mjs '<JSON: base, tokens, ids, now, screenshots>'
// Prints "ok <step>" for each step that passed. The server runs on a
// manual clock, the page on Playwright's (which flows): to bring the
// server's clock forward to the page's time the script prints
// "ADVANCE_TO <time>" and waits for "OK" on stdin.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import readline from 'node:readline';
import { createRequire } from 'node:module';

const cfg = JSON.parse(process.argv[2]);
const { base, tokens, bot, conversation, user, shots } = cfg;
const CHROMIUM = '/usr/bin/chromium';
const LIVE_BUDGET_MS = 1000;

// The whole run has a budget: a hang fails rather than blocking the suite.
setTimeout(() => {
  console.error('inspector.mjs: timed out');
  process.exit(3);
}, 150_000).unref();

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
/// Moves the page's clock `seconds` forward (firing due timers), then the
/// server's to the page's time. Neither clock ever goes back.
async function advanceClocks(page, seconds) {
  if (seconds) await page.clock.fastForward(seconds * 1000);
  const now = await page.evaluate(() => new Date().toISOString());
  console.log(`ADVANCE_TO ${now}`);
  const { value } = await lines.next();
  if (value?.trim() !== 'OK') throw new Error(`the test did not advance the clock: ${value}`);
}

function ok(step) {
  console.log(`ok ${step}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function gql(token, query, variables = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

async function gqlOk(token, query, variables) {
  const body = await gql(token, query, variables);
  if (body.errors) throw new Error(`unexpected errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const conversationRef = { scope: 'CONVERSATION', conversationId: conversation };
const SET = `mutation($input: SetVariableInput!) { setVariable(input: $input) { version } }`;
const READ = `query($ref: MemoryRef!, $name: String!) { variable(ref: $ref, name: $name) { value version expiresAt } }`;
const setVariable = (ref, name, value, extra = {}) =>
  gqlOk(tokens.editor, SET, { input: { ref, name, value, ...extra } });
const readVariable = async (ref, name) => (await gqlOk(tokens.editor, READ, { ref, name })).variable;

/// Polls `read` until `predicate` holds on what it returns, within `ms`.
async function eventually(read, predicate, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await read();
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)} after ${ms} ms`);
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  // Root in CI: Chromium's sandbox needs user namespaces it may not have.
  args: ['--no-sandbox'],
});

const problems = [];
const frames = [];
/// A browser context with the page's clock at the server's (manual) time;
/// watches for dialogs (an XSS would open one), CSP violations, page
/// errors, and any request that carries the token in its URL.
async function newPage(name, { offline = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  await context.clock.install({ time: new Date(cfg.now) });
  const blocked = [];
  if (offline) {
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      blocked.push(url.href);
      return route.abort('internetdisconnected');
    });
  }
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('dialog', (d) => {
    problems.push(`${name}: a dialog opened: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`${name}: ${m.text()}`);
  });
  page.on('request', (r) => {
    for (const token of Object.values(tokens)) {
      if (r.url().includes(token)) problems.push(`${name}: a request URL carries a token: ${r.url()}`);
    }
  });
  return { context, page, blocked };
}

/// axe-core's WCAG 2 A and AA rules (labels, names, contrast, structure)
/// find nothing on the page as it is now.
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
async function accessible(page, what) {
  await page.evaluate(axeSource);
  const { violations } = await page.evaluate(() => globalThis.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] }));
  const found = violations.map((v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target).join(', ')}`);
  check(found.length === 0, `accessibility of ${what}: ${found.join('; ')}`);
}

const shot = (page, name, fullPage = false) => page.screenshot({ path: `${shots}/${name}.png`, fullPage });
const variableRow = (page, scope, name) => page.locator(`[data-scope=${scope}] li.variable[data-name="${name}"]`);

async function signIn(page, token, { audit = false } = {}) {
  await page.goto(`${base}/inspector`);
  if (audit) await accessible(page, 'the sign-in page');
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('tenant').waitFor();
}

async function waitLive(page) {
  await page.locator('[data-testid=live][data-status=live]').waitFor();
}

/// Subscriptions are live once an event written now shows up: the server
/// registers a subscription shortly after the socket said so.
async function provenLive(page, scope, ref) {
  await waitLive(page);
  for (let i = 1; i <= 20; i++) {
    await setVariable(ref, 'probe', i);
    try {
      await variableRow(page, scope, 'probe').locator('pre', { hasText: String(i) }).waitFor({ timeout: 500 });
      return;
    } catch {
      // Not subscribed yet: write again.
    }
  }
  throw new Error(`no live event reached the ${scope} memory`);
}

try {
  // 1. The server is up (tests/inspector.rs started it); the page is served
  // under a strict CSP.
  const head = await fetch(`${base}/inspector`);
  const csp = head.headers.get('content-security-policy') || '';
  check(head.ok && /script-src 'self'/.test(csp) && /connect-src 'self'/.test(csp) && !/unsafe-eval/.test(csp), `CSP: ${csp}`);
  // The browser enforces it: an injected inline script does not run.
  const probe = await browser.newPage();
  await probe.goto(`${base}/inspector`);
  const inlineRan = await probe.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.inlineRan = true';
    document.head.appendChild(script);
    return window.inlineRan === true;
  });
  check(!inlineRan, 'an inline script ran');
  await probe.close();
  ok('1 server serves /inspector with a strict CSP');

  // 2. Sign in with a pasted token; the page shows tenant, subject, roles,
  // expiry, and keeps the token in sessionStorage only.
  const { page } = await newPage('editor');
  // The page's WebSocket traffic, shown if the test fails.
  page.on('websocket', (ws) => {
    frames.push(`open ${ws.url()}`);
    ws.on('framesent', (f) => frames.push(`> ${String(f.payload).slice(0, 160)}`));
    ws.on('framereceived', (f) => frames.push(`< ${String(f.payload).slice(0, 160)}`));
    ws.on('close', () => frames.push('closed'));
  });
  await signIn(page, tokens.editor, { audit: true });
  check((await page.getByTestId('tenant').textContent()) === cfg.tenant, 'tenant shown');
  check((await page.getByTestId('roles').textContent()).includes('EDITOR'), 'roles shown');
  await page.locator('.who', { hasText: 'in 59m' }).waitFor();
  check((await page.evaluate(() => sessionStorage.getItem('botmem.token'))) === tokens.editor, 'token in sessionStorage');
  check((await page.evaluate(() => localStorage.length)) === 0, 'nothing in localStorage');
  ok('2 signed in with a pasted token');

  // 3. From the bot to the conversation, through the lists.
  await page.getByRole('link', { name: 'support' }).click();
  await page.getByRole('heading', { name: 'Bot support' }).waitFor();
  await page.getByLabel('External id', { exact: true }).fill('visitor-42');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('table', { hasText: 'visitor-42' }).first().waitFor();
  await page.getByLabel('Status', { exact: true }).selectOption('ACTIVE');
  await page.getByRole('link', { name: `Conversation ${conversation}` }).click();
  await page.getByRole('heading', { level: 1, name: /^Conversation / }).waitFor();
  check(page.url().endsWith(`#/conversation/${conversation}`), page.url());
  await variableRow(page, 'CONVERSATION', 'doctor').waitFor();
  for (const [scope, name] of [['TEMP', 'step'], ['USER', 'email'], ['BOT', 'openingHours']]) {
    await variableRow(page, scope, name).waitFor();
  }
  check((await page.getByTestId('status').textContent()).includes('ACTIVE'), 'status ACTIVE');
  await page.locator('.message-list', { hasText: 'I need an appointment' }).waitFor();
  await accessible(page, 'the conversation');
  ok('3 navigated from the bot to the conversation; four memories and messages shown');

  // 4. A write through the API appears within 1 s, without a reload.
  await provenLive(page, 'CONVERSATION', conversationRef);
  const navigations = [];
  page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
  const started = Date.now();
  await setVariable(conversationRef, 'appointment', { day: '2030-02-11', time: '09:30' });
  await variableRow(page, 'CONVERSATION', 'appointment').locator('pre', { hasText: '09:30' }).waitFor({ timeout: LIVE_BUDGET_MS });
  const elapsed = Date.now() - started;
  check(navigations.length === 0, `no reload: ${navigations}`);
  await page.locator('ol.log li', { hasText: 'conversation.appointment' }).waitFor({ timeout: LIVE_BUDGET_MS });
  check((await variableRow(page, 'CONVERSATION', 'appointment').getAttribute('data-flash')) !== '0', 'highlighted');
  // An unset shows live too.
  await gqlOk(tokens.editor, 'mutation($ref: MemoryRef!) { unsetVariable(ref: $ref, name: "probe") }', { ref: conversationRef });
  await variableRow(page, 'CONVERSATION', 'probe').waitFor({ state: 'detached', timeout: LIVE_BUDGET_MS });
  ok(`4 a variable written through the API appeared in ${elapsed} ms without a reload`);

  // 5. A janitor sweep expires a variable: it disappears.
  await advanceClocks(page, 0);
  await setVariable(conversationRef, 'otp', '493817', { expiresIn: '30s' });
  const otp = variableRow(page, 'CONVERSATION', 'otp');
  await otp.locator('.countdown', { hasText: /in ([12]?[0-9]|30)s/ }).waitFor();
  // The highlights fade: the screenshot shows the page at rest.
  await page.waitForFunction(() => document.getAnimations().length === 0);
  await shot(page, 'inspector-conversation', true);
  await advanceClocks(page, 31);
  await otp.locator('.countdown', { hasText: /expired/ }).waitFor();
  const run = (await gqlOk(tokens.admin, 'mutation { runJanitor { variablesExpired error } }')).runJanitor;
  check(run.variablesExpired >= 1 && !run.error, `janitor run ${JSON.stringify(run)}`);
  await otp.waitFor({ state: 'detached', timeout: 2000 });
  await page.locator('ol.log li', { hasText: 'conversation.otp' }).filter({ hasText: 'EXPIRED' }).waitFor();
  ok('5 a variable expired by a janitor sweep disappeared');

  // 6. Edit in the page; the API reads the new value. Invalid JSON is
  // refused; a concurrent change is a conflict that shows the value now.
  const doctor = variableRow(page, 'CONVERSATION', 'doctor');
  const doctorVersion = (await readVariable(conversationRef, 'doctor')).version;
  await doctor.getByRole('button', { name: 'Edit doctor' }).click();
  const value = doctor.getByLabel('Value (JSON)');
  await value.fill('"Dr. Ada');
  await doctor.getByText('Not valid JSON').waitFor();
  check(await doctor.getByRole('button', { name: 'Save' }).isDisabled(), 'save disabled for invalid JSON');
  await value.fill('"Dr. Ada Lovelace"');
  await doctor.getByText('Valid JSON.').waitFor();
  await doctor.getByRole('button', { name: 'Save' }).click();
  await eventually(() => readVariable(conversationRef, 'doctor'), (v) => v.value === 'Dr. Ada Lovelace', 2000, 'doctor after edit');
  await doctor.locator('pre', { hasText: 'Dr. Ada Lovelace' }).waitFor();

  await doctor.getByRole('button', { name: 'Edit doctor' }).click();
  await setVariable(conversationRef, 'doctor', 'Dr. Grace Hopper');
  await doctor.getByLabel('Value (JSON)').fill('"Dr. Alan Turing"');
  await doctor.getByRole('button', { name: 'Save' }).click();
  const conflict = doctor.locator('.conflict');
  await conflict.waitFor();
  check((await conflict.textContent()).includes('Dr. Grace Hopper'), 'conflict shows the current value');
  check((await readVariable(conversationRef, 'doctor')).value === 'Dr. Grace Hopper', 'the conflicting write changed nothing');
  await accessible(page, 'an editor with a conflict');
  await shot(page, 'inspector-conflict');
  await doctor.getByRole('button', { name: 'Save' }).click();
  const overwritten = await eventually(() => readVariable(conversationRef, 'doctor'), (v) => v.value === 'Dr. Alan Turing', 2000, 'doctor after overwrite');
  check(overwritten.version === doctorVersion + 3, `versions: ${doctorVersion} then ${overwritten.version}`);

  const conversationPanel = page.locator('[data-scope=CONVERSATION]');
  await conversationPanel.getByRole('button', { name: 'Set variable…' }).click();
  await conversationPanel.getByLabel('Name', { exact: true }).fill('callback');
  await conversationPanel.getByLabel('Value (JSON)').fill('{"phone": "+44 20 7946 0000", "window": ["09:00", "12:00"]}');
  await conversationPanel.getByLabel(/Expires in/).fill('2h');
  await conversationPanel.getByRole('button', { name: 'Save' }).click();
  const callback = await eventually(() => readVariable(conversationRef, 'callback'), (v) => v !== null, 2000, 'callback');
  check(callback.value.window[1] === '12:00' && callback.expiresAt !== null, JSON.stringify(callback));
  const callbackRow = variableRow(page, 'CONVERSATION', 'callback');
  await callbackRow.locator('.countdown', { hasText: /in 1h 59m|in 2h 0m/ }).waitFor();
  await callbackRow.getByRole('button', { name: 'Unset callback' }).click();
  await callbackRow.getByRole('button', { name: 'Confirm unset' }).click();
  await eventually(() => readVariable(conversationRef, 'callback'), (v) => v === null, 2000, 'callback after unset');
  await callbackRow.waitFor({ state: 'detached' });
  ok('6 edited, set and unset in the page; the API reads the new values; a conflict shows the current value');

  // 8. (on this page) The XSS value shows as text, live or loaded.
  const note = variableRow(page, 'CONVERSATION', 'note');
  check((await note.locator('pre').textContent()) === '"<img src=x onerror=alert(1)>"', 'XSS value as text');
  await setVariable(conversationRef, 'note2', '<script>alert(2)</script><img src=x onerror=alert(3)>');
  await variableRow(page, 'CONVERSATION', 'note2').waitFor();
  check((await page.locator('main img, main script, .changelog img').count()) === 0, 'no element from a value');
  check((await page.locator('ol.log').textContent()).includes('<img src=x onerror=alert(3)>'), 'the change log shows it as text');

  // One socket all along: no reconnect (and re-read) since signing in.
  check(frames.filter((f) => f.startsWith('open')).length === 1, `one WebSocket: ${frames.filter((f) => !f.startsWith('<'))}`);
  check((await page.locator('.notices').textContent()) === '', `notices: ${await page.locator('.notices').textContent()}`);

  // End the conversation from the page: promotion and clearing show live.
  await page.getByRole('button', { name: 'End conversation…' }).click();
  await page.getByRole('button', { name: 'Confirm end' }).click();
  await page.getByTestId('status').filter({ hasText: 'ENDED' }).waitFor();
  await variableRow(page, 'USER', 'doctor').waitFor();
  await page.locator('[data-scope=CONVERSATION] .empty').waitFor();
  check((await page.locator('[data-scope=CONVERSATION] button, [data-scope=TEMP] button').count()) === 0, 'an ended conversation has no edit controls');
  check((await page.getByRole('button', { name: 'End conversation…' }).count()) === 0, 'no end button once ended');
  ok('8 values that look like HTML show as text (no element, no dialog)');

  // 7. A viewer sees no edit controls (signed in by the development link's
  // fragment, which the page removes); the API refuses its writes anyway.
  const viewer = await newPage('viewer');
  await viewer.page.goto(`${base}/inspector#token=${tokens.viewer}`);
  await viewer.page.getByTestId('roles').filter({ hasText: 'VIEWER' }).waitFor();
  check(!viewer.page.url().includes('token'), `fragment removed: ${viewer.page.url()}`);
  await viewer.page.goto(`${base}/inspector#/user/${user}`);
  await variableRow(viewer.page, 'USER', 'email').waitFor();
  await viewer.page.getByRole('heading', { name: 'Conversations' }).waitFor();
  await viewer.page.getByText('No active conversation').waitFor();
  // A user with an active conversation: the four memories.
  await viewer.page.goto(`${base}/inspector#/user/${cfg.active_user}`);
  await variableRow(viewer.page, 'CONVERSATION', 'topic').waitFor();
  await variableRow(viewer.page, 'BOT', 'openingHours').waitFor();
  await viewer.page.locator('[data-scope=TEMP]').waitFor();
  await accessible(viewer.page, 'the user page');
  await shot(viewer.page, 'inspector-user', true);
  await viewer.page.goto(`${base}/inspector#/bot/${bot}`);
  await variableRow(viewer.page, 'BOT', 'openingHours').waitFor();
  const otherConversation = cfg.active_conversation;
  await viewer.page.goto(`${base}/inspector#/conversation/${otherConversation}`);
  await variableRow(viewer.page, 'CONVERSATION', 'topic').waitFor();
  await variableRow(viewer.page, 'BOT', 'openingHours').waitFor();
  const editControls = viewer.page.getByRole('button', { name: /Edit|Unset|Set variable|End conversation|Change settings|Save/ });
  check((await editControls.count()) === 0, `viewer sees ${await editControls.count()} edit controls`);
  check((await viewer.page.locator('form.editor, textarea').count()) === 0, 'viewer sees no editor');
  const refused = await gql(tokens.viewer, SET, { input: { ref: conversationRef, name: 'x', value: 1 } });
  check(refused.errors?.[0]?.extensions?.code === 'FORBIDDEN', JSON.stringify(refused));
  await shot(viewer.page, 'inspector-viewer', true);
  await viewer.context.close();
  ok('7 a viewer token sees no edit controls');

  // Live updates that lag or drop: the page re-reads and says so. The
  // page's WebSocket goes through the test, which can end a subscription as
  // a lagging server does, drop the connection, and hold a reconnect back.
  const watcher = await newPage('watcher');
  const routed = { subscribes: [], sockets: [], held: null };
  await watcher.page.routeWebSocket(/\/graphql\/ws$/, (ws) => {
    const server = ws.connectToServer();
    const buffered = [];
    const entry = { ws, server, flush: () => buffered.splice(0).forEach((m) => server.send(m)) };
    ws.onMessage((message) => {
      const json = JSON.parse(String(message));
      if (json.type === 'subscribe') routed.subscribes.push(json);
      if (routed.held) buffered.push(message);
      else server.send(message);
    });
    routed.sockets.push(entry);
  });
  await signIn(watcher.page, tokens.viewer);
  await watcher.page.goto(`${base}/inspector#/conversation/${otherConversation}`);
  const otherRef = { scope: 'CONVERSATION', conversationId: otherConversation };
  await provenLive(watcher.page, 'CONVERSATION', otherRef);
  const ownSubscription = () =>
    routed.subscribes.filter((m) => m.payload.variables?.ownerId === otherConversation).at(-1);
  const lagged = ownSubscription();
  routed.sockets.at(-1).ws.send(JSON.stringify({
    id: lagged.id,
    type: 'next',
    payload: { errors: [{ message: 'this subscription fell behind by 3 events', extensions: { code: 'SUBSCRIPTION_LAGGED' } }] },
  }));
  routed.sockets.at(-1).ws.send(JSON.stringify({ id: lagged.id, type: 'complete' }));
  await watcher.page.locator('.notices', { hasText: 'fell behind' }).waitFor();
  await eventually(async () => ownSubscription().id, (id) => id !== lagged.id, 2000, 'subscribed again after the lag');
  await provenLive(watcher.page, 'CONVERSATION', otherRef);

  let release;
  routed.held = new Promise((r) => (release = r));
  await routed.sockets.at(-1).ws.close({ code: 1012, reason: 'service restart' });
  await watcher.page.locator('[data-testid=live]:not([data-status=live])').waitFor();
  // Written while the page has no live connection: only a re-read shows it.
  await setVariable(otherRef, 'missed', 'written while disconnected');
  routed.held = null;
  routed.sockets.at(-1).flush();
  release();
  await watcher.page.locator('.notices', { hasText: 'Reconnected' }).waitFor();
  await variableRow(watcher.page, 'CONVERSATION', 'missed').waitFor();
  await provenLive(watcher.page, 'CONVERSATION', otherRef);
  await watcher.context.close();
  ok('live: after SUBSCRIPTION_LAGGED and after a reconnect the page re-reads and says so');

  // Admin: bot settings, the janitor schedule, runJanitor and its runs.
  const admin = await newPage('admin');
  await signIn(admin.page, tokens.admin);
  await admin.page.goto(`${base}/inspector#/bot/${bot}`);
  await admin.page.getByRole('button', { name: 'Change settings…' }).click();
  await admin.page.getByLabel(/Session timeout/).fill('45m');
  await admin.page.getByRole('button', { name: 'Add policy' }).click();
  await admin.page.getByLabel('Variable name').last().fill('doctor');
  await admin.page.getByLabel('Time to live').last().fill('7d');
  await admin.page.getByRole('button', { name: 'Save settings' }).click();
  await admin.page.locator('.fields', { hasText: '45m' }).waitFor();
  const settings = (await gqlOk(tokens.admin, `query($id: UUID!) { bot(id: $id) { sessionTimeout retentionPolicies { name ttl } } }`, { id: bot })).bot;
  check(settings.sessionTimeout === '45m' && settings.retentionPolicies.some((p) => p.name === 'doctor' && p.ttl === '7d'), JSON.stringify(settings));
  await admin.page.getByRole('link', { name: 'Tenant & janitor' }).click();
  await admin.page.getByLabel(/Janitor schedule/).fill('0 */5 * * * *');
  await admin.page.getByRole('button', { name: 'Save tenant settings' }).click();
  await admin.page.getByText('Tenant settings saved.').waitFor();
  const tenant = (await gqlOk(tokens.admin, '{ viewer { tenant { janitorSchedule } } }')).viewer.tenant;
  check(tenant.janitorSchedule === '0 */5 * * * *', JSON.stringify(tenant));
  await admin.page.getByRole('button', { name: 'Run janitor now' }).click();
  await admin.page.getByText('Janitor run finished').waitFor();
  // Step 5's run and this one.
  await admin.page.locator('section[aria-labelledby=janitor-runs] tbody tr', { hasText: 'MANUAL' }).nth(1).waitFor();
  await accessible(admin.page, 'the tenant page');
  await shot(admin.page, 'inspector-admin', true);
  await admin.context.close();
  ok('admin: bot settings, janitor schedule, runJanitor and its runs');

  // 9. GraphiQL with nothing reachable but 127.0.0.1: the inspector's link
  // opens it with the view's query and the signed-in token; then the
  // token prompt; a query and a subscription run.
  const gq = await newPage('graphiql', { offline: true });
  await signIn(gq.page, tokens.admin);
  await gq.page.goto(`${base}/inspector#/conversation/${otherConversation}`);
  await variableRow(gq.page, 'CONVERSATION', 'topic').waitFor();
  await gq.page.getByRole('link', { name: 'Open in GraphiQL' }).click();
  await gq.page.locator('.graphiql-container').waitFor();
  check(!gq.page.url().includes('#'), `the fragment is removed: ${gq.page.url()}`);
  const editorValue = (selector) =>
    gq.page.evaluate((s) => document.querySelector(`${s} .CodeMirror`)?.CodeMirror.getValue() ?? null, selector);
  check((await editorValue('.graphiql-query-editor')).includes('query Conversation'), 'the view query is filled in');
  const run9 = async () => {
    await gq.page.locator('.graphiql-execute-button').click();
  };
  const resultHas = (text, ms = 10_000) =>
    eventually(() => editorValue('.result-window'), (v) => v !== null && v.includes(text), ms, `GraphiQL result with ${text}`);
  await run9();
  await resultHas(otherConversation);
  await resultHas('"topic"');
  await shot(gq.page, 'inspector-graphiql-query');

  await gq.page.getByRole('button', { name: 'Sign out' }).click();
  await gq.page.getByLabel('Token').fill(tokens.admin);
  await gq.page.getByRole('button', { name: 'Use this token' }).click();
  await gq.page.locator('.graphiql-container').waitFor();
  const setQuery = (q) =>
    gq.page.evaluate((text) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text), q);
  await setQuery('query Who { viewer { subject tenant { id } roles } }');
  await run9();
  await resultHas(`"id": "${cfg.tenant}"`);
  ok('9a GraphiQL offline: the inspector link, the token prompt and a query');

  await setQuery(`subscription Watch {\n  memoryChanged(botId: "${bot}", scope: BOT) {\n    op\n    name\n    value\n    version\n  }\n}`);
  await run9();
  // Subscribed once an event written now arrives.
  let seen = false;
  for (let i = 1; i <= 20 && !seen; i++) {
    await setVariable({ scope: 'BOT', botId: bot }, 'greeting', `hello ${i}`);
    seen = await resultHas(`hello ${i}`, 500).then(() => true, () => false);
  }
  check(seen, 'a subscription event reached GraphiQL');
  await shot(gq.page, 'inspector-graphiql');
  check(gq.blocked.length === 0, `requests beyond 127.0.0.1: ${gq.blocked}`);
  await gq.context.close();
  ok('9b GraphiQL offline: a subscription over /graphql/ws');

  check(problems.length === 0, problems.join('\n'));
  ok('no dialog, CSP violation, page error or token in a URL');
} catch (e) {
  console.error(e.stack || String(e));
  if (problems.length) console.error(problems.join('\n'));
  console.error(`the editor page's WebSocket:\n${frames.slice(-60).join('\n')}`);
  await browser.close().catch(() => {});
  process.exit(1);
}
await browser.close();
process.exit(0);
