// One conversation: its state, system fields and last messages, and the
// four memories side by side, kept live by memoryChanged and
// conversationChanged.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html, useLoad, Time, Countdown, JsonValue, ErrorBox, Loading, shortJson } from './ui.js';
import { gql } from './api.js';
import { CONVERSATION, CONVERSATION_STATE, BOT_MEMORY, MEMORY, END_CONVERSATION, MEMORY_CHANGED, CONVERSATION_CHANGED } from './queries.js';
import { MemoryPanel, applyMemoryEvent } from './memory.js';
import { useSession, useLive, useFlash } from './live.js';

/// Calls each key's latest function once, `ms` after the last request.
export function useDebounce(ms = 200) {
  const timers = useRef({});
  useEffect(() => () => Object.values(timers.current).forEach(clearTimeout), []);
  return (key, fn) => {
    clearTimeout(timers.current[key]);
    timers.current[key] = setTimeout(fn, ms);
  };
}

/// Reads a memory again and keeps it unless what is shown is newer.
export function rereadMemory(token, ref, setMemories) {
  return gql(token, MEMORY, { ref }).then(
    ({ memory }) =>
      setMemories((m) => (m[ref.scope] && m[ref.scope].version > memory.version ? m : { ...m, [ref.scope]: memory })),
    () => {},
  );
}

/// Logs a memory event and applies it to `memories`.
export function memoryEventHandler({ session, setMemories, bump, debounce, refs }) {
  return (ev) => {
    const ref = refs[ev.scope];
    if (!ref) return;
    setMemories((m) => ({ ...m, [ev.scope]: applyMemoryEvent(m[ev.scope], ev) }));
    bump(ev.scope, ev.name);
    session.addLog({
      at: ev.at,
      kind: ev.op,
      what: `${ev.scope.toLowerCase()}.${ev.name}`,
      detail: ev.value === null || ev.value === undefined ? `v${ev.version}` : `= ${shortJson(ev.value)} (v${ev.version})`,
    });
    // The event carries no expiry: read the memory again for it.
    debounce(ev.scope, () => rereadMemory(session.token, ref, setMemories));
  };
}

export function ConversationView({ id }) {
  const session = useSession();
  const { token, canEdit } = session;
  const loaded = useLoad(async () => {
    const { conversation } = await gql(token, CONVERSATION, { id });
    if (!conversation) throw Object.assign(new Error(`conversation ${id} not found`), { code: 'NOT_FOUND' });
    const { bot } = await gql(token, BOT_MEMORY, { id: conversation.botId });
    return { conversation, bot };
  }, [id, token]);
  const [conversation, setConversation] = useState(null);
  const [memories, setMemories] = useState({});
  const [flash, bump] = useFlash();
  const [statusFlash, setStatusFlash] = useState(0);
  const debounce = useDebounce();

  useEffect(() => {
    const d = loaded.data;
    if (!d) return;
    const { memory, temp, ...rest } = d.conversation;
    setConversation(rest);
    setMemories({ CONVERSATION: memory, TEMP: temp, USER: rest.user.memory, BOT: d.bot.memory });
  }, [loaded.data]);

  useEffect(() => session.setViewQuery({ query: CONVERSATION, variables: { id } }), [id]);

  const botId = conversation?.botId;
  const userId = conversation?.user.id;
  const refs = botId
    ? {
        CONVERSATION: { scope: 'CONVERSATION', conversationId: id },
        TEMP: { scope: 'TEMP', conversationId: id },
        USER: { scope: 'USER', userId },
        BOT: { scope: 'BOT', botId },
      }
    : {};

  const rereadState = () =>
    gql(token, CONVERSATION_STATE, { id }).then(
      ({ conversation: c }) => c && setConversation((old) => ({ ...old, ...c, user: { ...old.user, ...c.user } })),
      () => {},
    );
  const onMemoryEvent = memoryEventHandler({ session, setMemories, bump, debounce, refs });

  useLive(
    botId
      ? [
          { query: MEMORY_CHANGED, variables: { botId, ownerId: id } },
          { query: MEMORY_CHANGED, variables: { botId, ownerId: userId } },
          { query: MEMORY_CHANGED, variables: { botId, scope: 'BOT' } },
          { query: CONVERSATION_CHANGED, variables: { botId } },
        ]
      : [],
    (data) => {
      if (data.memoryChanged) onMemoryEvent(data.memoryChanged);
      const ev = data.conversationChanged;
      if (ev && ev.conversation.id === id) {
        setConversation((old) => ({ ...old, ...ev.conversation }));
        setStatusFlash((n) => n + 1);
        session.addLog({ at: ev.at, kind: ev.eventKind, what: 'conversation', detail: `status ${ev.conversation.status}` });
        debounce('state', rereadState);
      }
    },
    () => loaded.reload(),
    botId ? `${botId}/${userId}/${id}` : null,
  );

  if (loaded.error && !conversation) return html`<${ErrorBox} error=${loaded.error} />`;
  if (!conversation) return html`<${Loading} what="the conversation" />`;
  const c = conversation;
  const ended = c.status !== 'ACTIVE';
  const readOnly = ended ? `This conversation is ${c.status.toLowerCase()}: its memory can no longer change.` : null;
  const write = () => {
    // The live events update the view; a read makes sure even without them.
    debounce('after-write', () => loaded.reload());
  };
  const panel = (scope) =>
    html`<${MemoryPanel} token=${token} memory=${memories[scope]} memRef=${refs[scope]} canEdit=${canEdit}
      readOnlyReason=${scope === 'CONVERSATION' || scope === 'TEMP' ? readOnly : null}
      flash=${flash[scope]} onWritten=${write} />`;

  return html`<div class="view">
    <nav aria-label="Breadcrumb" class="crumbs">
      <a href="#/">Bots</a>${' › '}<a href=${`#/bot/${c.botId}`}>${loaded.data?.bot.name ?? 'bot'}</a>${' › '}<a href=${`#/user/${c.user.id}`}>user ${c.user.externalId}</a>${' › '}conversation
    </nav>
    <h1 tabindex="-1">Conversation <code>${c.id}</code></h1>
    <${ErrorBox} error=${loaded.error} />
    <div class="columns">
      <section aria-labelledby="conv-state" class="card">
        <h2 id="conv-state">State</h2>
        <dl class="fields">
          <dt>Status</dt>
          <dd><span class=${`status status-${c.status.toLowerCase()}`} data-testid="status" data-flash=${statusFlash}>
            ${statusFlash > 0 && html`<span class="flash" key=${statusFlash} aria-hidden="true"></span>`}${c.status}</span>
            ${c.endReason && html` (${c.endReason})`}</dd>
          <dt>User</dt>
          <dd><a href=${`#/user/${c.user.id}`}>${c.user.externalId}</a>
            ${(c.user.firstName || c.user.lastName) && html` · ${[c.user.firstName, c.user.lastName].filter(Boolean).join(' ')}`}</dd>
          <dt>Channel</dt><dd>${c.channel}${c.channelProvider ? ` via ${c.channelProvider}` : ''}</dd>
          <dt>Culture</dt><dd>${c.culture ?? '—'}</dd>
          <dt>Debug</dt><dd>${c.debug ? 'yes' : 'no'}</dd>
          <dt>Proxy</dt><dd>${c.isProxy ? 'yes' : 'no'}</dd>
          <dt>Started</dt><dd><${Time} at=${c.startedAt} /></dd>
          <dt>Last activity</dt><dd><${Time} at=${c.lastActivityAt} /></dd>
          <dt>Expires</dt><dd>${c.status === 'ACTIVE' ? html`<${Countdown} at=${c.expiresAt} />` : '—'}</dd>
          <dt>Ended</dt><dd><${Time} at=${c.endedAt} /></dd>
        </dl>
        ${canEdit && !ended && html`<${EndConversation} id=${c.id} onEnded=${() => loaded.reload()} />`}
      </section>
      <section aria-labelledby="conv-messages" class="card messages">
        <h2 id="conv-messages">Last messages</h2>
        ${c.messages.length === 0
          ? html`<p class="muted">No messages.</p>`
          : html`<ol class="message-list" tabindex="0" aria-labelledby="conv-messages">
              ${c.messages.map(
                (m) => html`<li key=${m.id} class=${`message ${m.direction.toLowerCase()}`}>
                  <span class="direction">${m.direction === 'INCOMING' ? 'user →' : '← bot'}</span>
                  <${Time} at=${m.at} />
                  ${m.text != null && html`<p class="text">${m.text}</p>`}
                  ${m.payload != null && html`<${JsonValue} value=${m.payload} />`}
                </li>`,
              )}
            </ol>`}
      </section>
    </div>
    <h2 class="section-title">Memory</h2>
    <div class="memories">
      ${panel('CONVERSATION')} ${panel('TEMP')} ${panel('USER')} ${panel('BOT')}
    </div>
  </div>`;
}

function EndConversation({ id, onEnded }) {
  const { token } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('COMPLETED');
  const [error, setError] = useState(null);
  async function end() {
    setError(null);
    try {
      await gql(token, END_CONVERSATION, { id, reason });
      setConfirming(false);
      onEnded();
    } catch (e) {
      setError(e.code === 'CONVERSATION_ENDED' ? Object.assign(e, { message: 'It had already ended (or timed out) meanwhile; nothing was changed.' }) : e);
      onEnded();
    }
  }
  return html`<div class="end">
    ${!confirming
      ? html`<button type="button" class="danger" onClick=${() => setConfirming(true)}>End conversation…</button>`
      : html`<div role="group" aria-label="End the conversation" class="confirm">
          <p>Ending promotes short-term memory into the user's long-term memory per the bot's policy, then clears the conversation and temp memories.</p>
          <label for="end-reason">Reason</label>
          <select id="end-reason" value=${reason} onChange=${(e) => setReason(e.currentTarget.value)}>
            <option value="COMPLETED">COMPLETED</option>
            <option value="ABANDONED">ABANDONED</option>
          </select>
          <div class="actions">
            <button type="button" class="danger" onClick=${end}>Confirm end</button>
            <button type="button" onClick=${() => setConfirming(false)}>Cancel</button>
          </div>
        </div>`}
    <${ErrorBox} error=${error} />
  </div>`;
}
