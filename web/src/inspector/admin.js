// For admin tokens: a bot's settings, the tenant's janitor schedule,
// runJanitor and the janitor's runs.
import { useEffect, useState } from 'preact/hooks';
import { html, useLoad, usePager, Pager, Time, ErrorBox, Loading } from './ui.js';
import { gql } from './api.js';
import { UPDATE_BOT, TENANT, UPDATE_TENANT, RUN_JANITOR } from './queries.js';
import { useSession } from './live.js';

const SCOPES = ['USER', 'CONVERSATION', 'TEMP', 'BOT'];

export function BotSettings({ bot, onSaved }) {
  const { token } = useSession();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const start = () => {
    setForm({
      name: bot.name,
      sessionTimeout: bot.sessionTimeout,
      lastMessagesKept: String(bot.lastMessagesKept),
      mode: bot.promotion.mode,
      names: bot.promotion.names.join(', '),
      policies: bot.retentionPolicies.map((p) => ({ ...p, scopes: [...p.scopes] })),
    });
    setError(null);
    setSaved(false);
    setOpen(true);
  };
  if (!open)
    return html`<div class="actions">
      <button type="button" onClick=${start}>Change settings…</button>
      ${saved && html`<span role="status" class="ok">Saved.</span>`}
    </div>`;
  const field = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const policy = (i, patch) => setForm({ ...form, policies: form.policies.map((p, j) => (j === i ? { ...p, ...patch } : p)) });
  async function save(e) {
    e.preventDefault();
    setError(null);
    const input = {
      name: form.name.trim(),
      sessionTimeout: form.sessionTimeout.trim(),
      lastMessagesKept: Number.parseInt(form.lastMessagesKept, 10),
      promotion: { mode: form.mode, names: form.names.split(',').map((n) => n.trim()).filter(Boolean) },
      retentionPolicies: form.policies.map((p) => ({ name: p.name.trim(), ttl: p.ttl.trim(), scopes: p.scopes })),
    };
    try {
      await gql(token, UPDATE_BOT, { id: bot.id, input });
      setOpen(false);
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(err);
    }
  }
  return html`<form class="editor settings" onSubmit=${save} aria-label="Bot settings">
    <label for="bot-name">Name</label>
    <input id="bot-name" value=${form.name} onInput=${field('name')} required />
    <label for="bot-timeout">Session timeout <span class="muted">(e.g. 30m, 2h)</span></label>
    <input id="bot-timeout" value=${form.sessionTimeout} onInput=${field('sessionTimeout')} required />
    <label for="bot-kept">Messages kept</label>
    <input id="bot-kept" type="number" min="0" value=${form.lastMessagesKept} onInput=${field('lastMessagesKept')} required />
    <fieldset>
      <legend>Promotion when a conversation ends</legend>
      <label for="bot-promotion">Mode</label>
      <select id="bot-promotion" value=${form.mode} onChange=${field('mode')}>
        <option value="ALL">ALL: every short-term variable</option>
        <option value="NONE">NONE</option>
        <option value="LISTED">LISTED: only the names below</option>
      </select>
      <label for="bot-promotion-names">Names <span class="muted">(comma-separated, for LISTED)</span></label>
      <input id="bot-promotion-names" value=${form.names} onInput=${field('names')} />
    </fieldset>
    <fieldset>
      <legend>Retention policies</legend>
      ${form.policies.length === 0 && html`<p class="muted">None.</p>`}
      ${form.policies.map(
        (p, i) => html`<div class="policy" key=${i} role="group" aria-label=${`Policy ${i + 1}`}>
          <label for=${`policy-${i}-name`}>Variable name</label>
          <input id=${`policy-${i}-name`} value=${p.name} onInput=${(e) => policy(i, { name: e.currentTarget.value })} required />
          <label for=${`policy-${i}-ttl`}>Time to live</label>
          <input id=${`policy-${i}-ttl`} value=${p.ttl} onInput=${(e) => policy(i, { ttl: e.currentTarget.value })} required />
          <div class="scopes">
            ${SCOPES.map(
              (s) => html`<label key=${s} class="check"><input type="checkbox" checked=${p.scopes.includes(s)}
                onChange=${(e) => policy(i, { scopes: e.currentTarget.checked ? [...p.scopes, s] : p.scopes.filter((x) => x !== s) })} /> ${s}</label>`,
            )}
          </div>
          <button type="button" onClick=${() => setForm({ ...form, policies: form.policies.filter((_, j) => j !== i) })}>Remove policy</button>
        </div>`,
      )}
      <button type="button" onClick=${() => setForm({ ...form, policies: [...form.policies, { name: '', ttl: '60d', scopes: ['USER'] }] })}>Add policy</button>
    </fieldset>
    <${ErrorBox} error=${error} />
    <div class="actions">
      <button type="submit" class="primary">Save settings</button>
      <button type="button" onClick=${() => setOpen(false)}>Cancel</button>
    </div>
  </form>`;
}

export function AdminView() {
  const session = useSession();
  const { token } = session;
  const pager = usePager();
  const [refresh, setRefresh] = useState(0);
  const loaded = useLoad(() => gql(token, TENANT, { first: 20, after: pager.after }), [pager.after, refresh]);
  useEffect(() => session.setViewQuery({ query: TENANT, variables: { first: 20 } }), []);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [running, setRunning] = useState(false);
  const tenant = loaded.data?.viewer.tenant;

  async function runJanitor() {
    setError(null);
    setMessage(null);
    setRunning(true);
    try {
      const { runJanitor: run } = await gql(token, RUN_JANITOR);
      setMessage(`Janitor run finished: ${run.variablesExpired} variables, ${run.kvEntriesExpired} KV entries and ${run.conversationsExpired} conversations expired, ${run.messagesTrimmed} messages trimmed.`);
      pager.reset();
      setRefresh((n) => n + 1);
    } catch (err) {
      setError(err);
    }
    setRunning(false);
  }

  if (loaded.error && !tenant) return html`<${ErrorBox} error=${loaded.error} />`;
  if (!tenant) return html`<${Loading} what="the tenant" />`;
  const runs = loaded.data.janitorRuns;
  return html`<div class="view">
    <h1 tabindex="-1">Tenant ${tenant.id}</h1>
    <div class="columns">
      <section class="card" aria-labelledby="tenant-settings">
        <h2 id="tenant-settings">Settings</h2>
        <${TenantSettings} tenant=${tenant} />
        <p class="muted">Created <${Time} at=${tenant.createdAt} />.</p>
      </section>
      <section class="card" aria-labelledby="janitor">
        <h2 id="janitor">Janitor</h2>
        <p>Removes expired variables, KV entries and conversations, and trims message logs.</p>
        <button type="button" class="primary" onClick=${runJanitor} disabled=${running}>${running ? 'Running…' : 'Run janitor now'}</button>
        ${message && html`<p role="status" class="ok">${message}</p>`}
        <${ErrorBox} error=${error} />
      </section>
    </div>
    <section class="card" aria-labelledby="janitor-runs">
      <h2 id="janitor-runs">Janitor runs</h2>
      ${runs.edges.length === 0
        ? html`<p class="muted">No runs yet.</p>`
        : html`<table class="list">
            <caption class="visually-hidden">Janitor runs, newest first</caption>
            <thead><tr><th scope="col">Started</th><th scope="col">Trigger</th><th scope="col">Finished</th><th scope="col">Variables</th><th scope="col">KV entries</th><th scope="col">Conversations</th><th scope="col">Messages trimmed</th><th scope="col">Error</th></tr></thead>
            <tbody>
              ${runs.edges.map(
                ({ node: r }) => html`<tr key=${r.id}>
                  <td><${Time} at=${r.startedAt} /></td><td>${r.trigger}</td><td><${Time} at=${r.finishedAt} /></td>
                  <td>${r.variablesExpired}</td><td>${r.kvEntriesExpired}</td><td>${r.conversationsExpired}</td><td>${r.messagesTrimmed}</td>
                  <td>${r.error ?? '—'}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
      <${Pager} pager=${pager} pageInfo=${runs.pageInfo} total=${runs.totalCount} label="Janitor runs" />
    </section>
  </div>`;
}

/// The tenant's settings as a form, filled from the tenant as first read.
function TenantSettings({ tenant }) {
  const { token } = useSession();
  const [schedule, setSchedule] = useState(tenant.janitorSchedule);
  const [maxValueBytes, setMaxValueBytes] = useState(String(tenant.maxValueBytes));
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  async function save(e) {
    e.preventDefault();
    setError(null);
    setMessage(null);
    try {
      const input = { janitorSchedule: schedule.trim(), maxValueBytes: Number.parseInt(maxValueBytes, 10) };
      const { updateTenantSettings: t } = await gql(token, UPDATE_TENANT, { input });
      setSchedule(t.janitorSchedule);
      setMaxValueBytes(String(t.maxValueBytes));
      setMessage('Tenant settings saved.');
    } catch (err) {
      setError(err);
    }
  }
  return html`<form class="editor" onSubmit=${save} aria-label="Tenant settings">
    <label for="janitor-schedule">Janitor schedule <span class="muted">(cron with seconds: sec min hour day month weekday)</span></label>
    <input id="janitor-schedule" value=${schedule} onInput=${(e) => setSchedule(e.currentTarget.value)} required />
    <label for="max-value-bytes">Largest value (bytes)</label>
    <input id="max-value-bytes" type="number" min="1" value=${maxValueBytes} onInput=${(e) => setMaxValueBytes(e.currentTarget.value)} required />
    <div class="actions"><button type="submit" class="primary">Save tenant settings</button></div>
    ${message && html`<p role="status" class="ok">${message}</p>`}
    <${ErrorBox} error=${error} />
  </form>`;
}
