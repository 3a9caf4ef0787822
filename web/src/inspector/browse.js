// Browsing: bots, then a bot's users (by externalId) and conversations (by
// status), then one user. Lists page with the API's cursors.
import { useEffect, useState } from 'preact/hooks';
import { html, useLoad, usePager, Pager, Time, Countdown, ErrorBox, Loading } from './ui.js';
import { gql } from './api.js';
import {
  BOTS, BOT, BOT_USERS, BOT_CONVERSATIONS, USER, USER_CONVERSATIONS, BOT_MEMORY,
  MEMORY_CHANGED, CONVERSATION_CHANGED,
} from './queries.js';
import { MemoryPanel } from './memory.js';
import { useSession, useLive, useFlash } from './live.js';
import { useDebounce, memoryEventHandler } from './conversation.js';
import { BotSettings } from './admin.js';

const PAGE = 20;

export function BotsView() {
  const session = useSession();
  const pager = usePager();
  const list = useLoad(() => gql(session.token, BOTS, { first: PAGE, after: pager.after }), [pager.after]);
  useEffect(() => session.setViewQuery({ query: BOTS, variables: { first: PAGE } }), []);
  const bots = list.data?.bots;
  return html`<div class="view">
    <h1 tabindex="-1">Bots</h1>
    <${ErrorBox} error=${list.error} />
    ${!bots
      ? !list.error && html`<${Loading} what="bots" />`
      : bots.edges.length === 0
        ? html`<p class="muted">No bots yet. An admin creates them with <code>createBot</code> (try it in GraphiQL).</p>`
        : html`<table class="list">
            <caption class="visually-hidden">Bots of this tenant</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Session timeout</th><th scope="col">Messages kept</th><th scope="col">Created</th><th scope="col">Id</th></tr></thead>
            <tbody>
              ${bots.edges.map(
                ({ node: b }) => html`<tr key=${b.id}>
                  <td><a href=${`#/bot/${b.id}`}>${b.name}</a></td>
                  <td>${b.sessionTimeout}</td>
                  <td>${b.lastMessagesKept}</td>
                  <td><${Time} at=${b.createdAt} /></td>
                  <td><code class="id">${b.id}</code></td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    <${Pager} pager=${pager} pageInfo=${bots?.pageInfo} total=${bots?.totalCount} label="Bots" />
  </div>`;
}

export function BotView({ id }) {
  const session = useSession();
  const { token, canEdit, isAdmin } = session;
  const loaded = useLoad(async () => {
    const { bot } = await gql(token, BOT, { id });
    if (!bot) throw Object.assign(new Error(`bot ${id} not found`), { code: 'NOT_FOUND' });
    return bot;
  }, [id, token]);
  const [memories, setMemories] = useState({});
  const [flash, bump] = useFlash();
  const [conversationsChanged, setConversationsChanged] = useState(0);
  const debounce = useDebounce(300);
  useEffect(() => loaded.data && setMemories({ BOT: loaded.data.memory }), [loaded.data]);
  useEffect(() => session.setViewQuery({ query: BOT, variables: { id } }), [id]);
  const refs = { BOT: { scope: 'BOT', botId: id } };
  const onMemoryEvent = memoryEventHandler({ session, setMemories, bump, debounce, refs });
  useLive(
    [
      { query: MEMORY_CHANGED, variables: { botId: id, scope: 'BOT' } },
      { query: CONVERSATION_CHANGED, variables: { botId: id } },
    ],
    (data) => {
      if (data.memoryChanged) onMemoryEvent(data.memoryChanged);
      if (data.conversationChanged) debounce('conversations', () => setConversationsChanged((n) => n + 1));
    },
    () => {
      loaded.reload();
      setConversationsChanged((n) => n + 1);
    },
    id,
  );

  const bot = loaded.data;
  if (loaded.error && !bot) return html`<${ErrorBox} error=${loaded.error} />`;
  if (!bot) return html`<${Loading} what="the bot" />`;
  return html`<div class="view">
    <nav aria-label="Breadcrumb" class="crumbs"><a href="#/">Bots</a>${' › '}${bot.name}</nav>
    <h1 tabindex="-1">Bot ${bot.name}</h1>
    <div class="columns">
      <section class="card" aria-labelledby="bot-settings">
        <h2 id="bot-settings">Settings</h2>
        <dl class="fields">
          <dt>Id</dt><dd><code class="id">${bot.id}</code></dd>
          <dt>Session timeout</dt><dd>${bot.sessionTimeout}</dd>
          <dt>Messages kept</dt><dd>${bot.lastMessagesKept}</dd>
          <dt>Promotion</dt><dd>${bot.promotion.mode}${bot.promotion.names.length ? `: ${bot.promotion.names.join(', ')}` : ''}</dd>
          <dt>Retention</dt>
          <dd>${bot.retentionPolicies.length === 0
            ? 'none'
            : html`<ul class="plain">${bot.retentionPolicies.map((p) => html`<li key=${p.name}><code>${p.name}</code>: ${p.ttl} (${p.scopes.join(', ')})</li>`)}</ul>`}</dd>
          <dt>Created</dt><dd><${Time} at=${bot.createdAt} /></dd>
          <dt>Updated</dt><dd><${Time} at=${bot.updatedAt} /></dd>
        </dl>
        ${isAdmin && html`<${BotSettings} bot=${bot} onSaved=${() => loaded.reload()} />`}
      </section>
      <div class="memories one">
        <${MemoryPanel} token=${token} memory=${memories.BOT} memRef=${refs.BOT} canEdit=${canEdit}
          flash=${flash.BOT} onWritten=${() => debounce('after-write', () => loaded.reload())} />
      </div>
    </div>
    <div class="columns">
      <${Conversations} owner=${{ bot: id }} changed=${conversationsChanged} />
      <${Users} botId=${id} />
    </div>
  </div>`;
}

function Users({ botId }) {
  const { token } = useSession();
  const pager = usePager();
  const [search, setSearch] = useState('');
  const [externalId, setExternalId] = useState(null);
  const list = useLoad(
    () => gql(token, BOT_USERS, { id: botId, first: PAGE, after: pager.after, externalId }),
    [botId, pager.after, externalId],
  );
  const users = list.data?.bot?.users;
  const submit = (e) => {
    e.preventDefault();
    pager.reset();
    setExternalId(search.trim() || null);
  };
  return html`<section class="card" aria-labelledby="bot-users">
    <h2 id="bot-users">Users</h2>
    <form class="inline" onSubmit=${submit} role="search" aria-label="Users by external id">
      <label for="user-search">External id</label>
      <input id="user-search" type="search" value=${search} onInput=${(e) => setSearch(e.currentTarget.value)} placeholder="exact match" />
      <button type="submit">Search</button>
      ${externalId && html`<button type="button" onClick=${() => { setSearch(''); pager.reset(); setExternalId(null); }}>Show all</button>`}
    </form>
    <${ErrorBox} error=${list.error} />
    ${!users
      ? !list.error && html`<${Loading} what="users" />`
      : users.edges.length === 0
        ? html`<p class="muted">${externalId ? `No user with external id “${externalId}”.` : 'No users yet.'}</p>`
        : html`<table class="list">
            <caption class="visually-hidden">Users of this bot</caption>
            <thead><tr><th scope="col">External id</th><th scope="col">Channel</th><th scope="col">Name</th><th scope="col">Created</th></tr></thead>
            <tbody>
              ${users.edges.map(
                ({ node: u }) => html`<tr key=${u.id}>
                  <td><a href=${`#/user/${u.id}`}>${u.externalId}</a></td>
                  <td>${u.channel}</td>
                  <td>${[u.firstName, u.lastName].filter(Boolean).join(' ') || '—'}</td>
                  <td><${Time} at=${u.createdAt} /></td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    <${Pager} pager=${pager} pageInfo=${users?.pageInfo} total=${users?.totalCount} label="Users" />
  </section>`;
}

/// The conversations of a bot (`owner.bot`) or of a user (`owner.user`).
function Conversations({ owner, changed = 0 }) {
  const { token } = useSession();
  const pager = usePager();
  const [status, setStatus] = useState('');
  const list = useLoad(async () => {
    const variables = { first: PAGE, after: pager.after, status: status || null };
    if (owner.bot) return (await gql(token, BOT_CONVERSATIONS, { id: owner.bot, ...variables })).bot?.conversations;
    return (await gql(token, USER_CONVERSATIONS, { id: owner.user, ...variables })).user?.conversations;
  }, [owner.bot, owner.user, pager.after, status, changed]);
  const conversations = list.data;
  return html`<section class="card" aria-labelledby="conversations">
    <h2 id="conversations">Conversations</h2>
    <div class="inline">
      <label for="status-filter">Status</label>
      <select id="status-filter" value=${status} onChange=${(e) => { pager.reset(); setStatus(e.currentTarget.value); }}>
        <option value="">all</option>
        <option value="ACTIVE">ACTIVE</option>
        <option value="ENDED">ENDED</option>
        <option value="EXPIRED">EXPIRED</option>
      </select>
    </div>
    <${ErrorBox} error=${list.error} />
    ${!conversations
      ? !list.error && html`<${Loading} what="conversations" />`
      : conversations.edges.length === 0
        ? html`<p class="muted">No conversations${status ? ` with status ${status}` : ''}.</p>`
        : html`<table class="list">
            <caption class="visually-hidden">Conversations</caption>
            <thead><tr><th scope="col">Conversation</th><th scope="col">Status</th>${owner.bot && html`<th scope="col">User</th>`}<th scope="col">Last activity</th><th scope="col">Expires</th></tr></thead>
            <tbody>
              ${conversations.edges.map(
                ({ node: c }) => html`<tr key=${c.id}>
                  <td><a href=${`#/conversation/${c.id}`} aria-label=${`Conversation ${c.id}`}><code class="id">${c.id.slice(0, 8)}…</code></a> <span class="muted">${c.channel}</span></td>
                  <td><span class=${`status status-${c.status.toLowerCase()}`}>${c.status}</span></td>
                  ${owner.bot && html`<td><a href=${`#/user/${c.user.id}`}>${c.user.externalId}</a></td>`}
                  <td><${Time} at=${c.lastActivityAt} /></td>
                  <td>${c.status === 'ACTIVE' ? html`<${Countdown} at=${c.expiresAt} />` : '—'}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    <${Pager} pager=${pager} pageInfo=${conversations?.pageInfo} total=${conversations?.totalCount} label="Conversations" />
  </section>`;
}

export function UserView({ id }) {
  const session = useSession();
  const { token, canEdit } = session;
  const loaded = useLoad(async () => {
    const { user } = await gql(token, USER, { id });
    if (!user) throw Object.assign(new Error(`user ${id} not found`), { code: 'NOT_FOUND' });
    const { bot } = await gql(token, BOT_MEMORY, { id: user.botId });
    return { user, bot };
  }, [id, token]);
  const [memories, setMemories] = useState({});
  const [flash, bump] = useFlash();
  const debounce = useDebounce();
  const user = loaded.data?.user;
  const botId = user?.botId;
  // The user's active conversation (the oldest, if several) completes the
  // four memories.
  const active = user?.active.edges[0]?.node;
  useEffect(() => {
    if (!loaded.data) return;
    setMemories({ USER: user.memory, BOT: loaded.data.bot.memory, CONVERSATION: active?.memory, TEMP: active?.temp });
  }, [loaded.data]);
  useEffect(() => session.setViewQuery({ query: USER, variables: { id } }), [id]);
  const refs = botId
    ? {
        USER: { scope: 'USER', userId: id },
        BOT: { scope: 'BOT', botId },
        ...(active && {
          CONVERSATION: { scope: 'CONVERSATION', conversationId: active.id },
          TEMP: { scope: 'TEMP', conversationId: active.id },
        }),
      }
    : {};
  const onMemoryEvent = memoryEventHandler({ session, setMemories, bump, debounce, refs });
  useLive(
    botId
      ? [
          active && { query: MEMORY_CHANGED, variables: { botId, ownerId: active.id } },
          { query: MEMORY_CHANGED, variables: { botId, ownerId: id } },
          { query: MEMORY_CHANGED, variables: { botId, scope: 'BOT' } },
        ]
      : [],
    (data) => data.memoryChanged && onMemoryEvent(data.memoryChanged),
    () => loaded.reload(),
    botId ? `${botId}/${id}/${active?.id}` : null,
  );
  if (loaded.error && !user) return html`<${ErrorBox} error=${loaded.error} />`;
  if (!user) return html`<${Loading} what="the user" />`;
  const written = () => debounce('after-write', () => loaded.reload());
  const panel = (scope, owner) =>
    html`<${MemoryPanel} token=${token} memory=${memories[scope]} memRef=${refs[scope]} canEdit=${canEdit}
      flash=${flash[scope]} onWritten=${written} owner=${owner} />`;
  const conversationLink = active &&
    html`of the active conversation <a href=${`#/conversation/${active.id}`} aria-label=${`Conversation ${active.id}`}><code class="id">${active.id.slice(0, 8)}…</code></a>`;
  return html`<div class="view">
    <nav aria-label="Breadcrumb" class="crumbs">
      <a href="#/">Bots</a>${' › '}<a href=${`#/bot/${botId}`}>${loaded.data.bot.name}</a>${' › '}user ${user.externalId}
    </nav>
    <h1 tabindex="-1">User ${user.externalId}</h1>
    <div class="columns">
      <section class="card" aria-labelledby="user-profile">
        <h2 id="user-profile">Profile</h2>
        <dl class="fields">
          <dt>Id</dt><dd><code class="id">${user.id}</code></dd>
          <dt>Channel</dt><dd>${user.channel}</dd>
          <dt>External id</dt><dd>${user.externalId}</dd>
          <dt>Name</dt><dd>${[user.firstName, user.lastName].filter(Boolean).join(' ') || '—'}</dd>
          <dt>Locale</dt><dd>${user.locale ?? '—'}</dd>
          <dt>Created</dt><dd><${Time} at=${user.createdAt} /></dd>
          <dt>Active conversations</dt><dd>${user.active.totalCount}</dd>
        </dl>
      </section>
      <${Conversations} owner=${{ user: id }} />
    </div>
    <h2 class="section-title">Memory</h2>
    ${active
      ? html`<div class="memories">
          ${panel('CONVERSATION', conversationLink)} ${panel('TEMP', conversationLink)} ${panel('USER')} ${panel('BOT')}
        </div>`
      : html`<p class="muted">No active conversation: its short-term and temp memories would show beside these.</p>
          <div class="memories two">${panel('USER')} ${panel('BOT')}</div>`}
  </div>`;
}
