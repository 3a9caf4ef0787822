// One memory (BOT, USER, CONVERSATION or TEMP): its variables with value,
// version, updated-at and a live expiry countdown; for editor tokens, set
// and unset, each sending the version the user saw (expectedVersion).
import { useState } from 'preact/hooks';
import { html, JsonValue, Countdown, Time } from './ui.js';
import { gql } from './api.js';
import { SET_VARIABLE, UNSET_VARIABLE, VARIABLE } from './queries.js';

export const SCOPE_TITLES = {
  CONVERSATION: 'Conversation (short-term)',
  TEMP: 'Temp (current flow)',
  USER: 'User (long-term)',
  BOT: 'Bot',
};

/// `memory` as read; `memRef` the MemoryRef writes name; `flash` maps a
/// variable's name to a counter that grows with each live change.
/// `owner` (optional) says whose memory it is, e.g. a link to its conversation.
export function MemoryPanel({ token, memory, memRef, canEdit, readOnlyReason, flash = {}, onWritten, owner }) {
  const [adding, setAdding] = useState(false);
  const scope = memRef.scope;
  const title = SCOPE_TITLES[scope];
  const headingId = `memory-${scope.toLowerCase()}`;
  const editable = canEdit && !readOnlyReason;
  return html`<section class="memory" aria-labelledby=${headingId} data-scope=${scope}>
    <header class="memory-head">
      <h3 id=${headingId}>${title}</h3>
      <span class="badge" title="The memory's version: grows with every change">v${memory ? memory.version : '—'}</span>
    </header>
    ${owner && html`<p class="owner">${owner}</p>`}
    ${!memory
      ? html`<p class="muted">Not loaded.</p>`
      : memory.variables.length === 0
        ? html`<p class="muted empty">No variables.</p>`
        : html`<ul class="variables">
            ${memory.variables.map(
              (v) => html`<${VariableRow}
                key=${v.name}
                token=${token} variable=${v} memRef=${memRef} editable=${editable}
                flash=${flash[v.name] || 0} onWritten=${onWritten} />`,
            )}
          </ul>`}
    ${canEdit && readOnlyReason && html`<p class="muted">${readOnlyReason}</p>`}
    ${editable &&
    (adding
      ? html`<${VariableEditor} token=${token} memRef=${memRef} current=${null}
          onDone=${(saved) => {
            setAdding(false);
            if (saved) onWritten?.();
          }} />`
      : html`<button type="button" class="add" onClick=${() => setAdding(true)}>Set variable…</button>`)}
  </section>`;
}

function VariableRow({ token, variable: v, memRef, editable, flash, onWritten }) {
  const [mode, setMode] = useState(null); // null | 'edit' | 'unset'
  // A new key restarts the highlight's animation, and only the highlight:
  // an editor open on this variable stays as it is.
  return html`<li class="variable" data-name=${v.name} data-flash=${flash}>
    ${flash > 0 && html`<span class="flash" key=${flash} aria-hidden="true"></span>`}
    <div class="variable-head">
      <code class="name">${v.name}</code>
      <span class="badge" title="The variable's version">v${v.version}</span>
    </div>
    <${JsonValue} value=${v.value} />
    <p class="meta">
      updated <${Time} at=${v.updatedAt} /> · expires <${Countdown} at=${v.expiresAt} />
    </p>
    ${editable && mode === null &&
    html`<div class="actions">
      <button type="button" onClick=${() => setMode('edit')} aria-label=${`Edit ${v.name}`}>Edit</button>
      <button type="button" onClick=${() => setMode('unset')} aria-label=${`Unset ${v.name}`}>Unset</button>
    </div>`}
    ${mode === 'edit' &&
    html`<${VariableEditor} token=${token} memRef=${memRef} current=${v}
      onDone=${(saved) => {
        setMode(null);
        if (saved) onWritten?.();
      }} />`}
    ${mode === 'unset' &&
    html`<${UnsetConfirm} token=${token} memRef=${memRef} variable=${v}
      onDone=${(done) => {
        setMode(null);
        if (done) onWritten?.();
      }} />`}
  </li>`;
}

/// Reads the variable as it is now, for a conflict message.
async function currentVariable(token, memRef, name) {
  try {
    return (await gql(token, VARIABLE, { ref: memRef, name })).variable;
  } catch {
    return undefined;
  }
}

function Conflict({ name, expected, current }) {
  return html`<div class="error conflict" role="alert">
    <strong>Conflict: not saved.</strong>
    ${' '}<code>${name}</code> changed since you read it: you expected
    ${expected === 0 ? ' it not to exist' : ` version ${expected}`},
    ${current === undefined
      ? ' and it could not be read again.'
      : current === null
        ? ' and it no longer exists.'
        : html` and it is now at version ${current.version} with this value:
            <${JsonValue} value=${current.value} />`}
    <p>Check the value above; saving again now writes over ${current ? `version ${current.version}` : 'it'}.</p>
  </div>`;
}

let editorIds = 0;

/// A JSON editor for one variable: the value must parse as JSON; an
/// optional expiresIn ("90s", "5m", "2h", "P1D"); saving sends
/// expectedVersion (the version shown, 0 for a new variable).
export function VariableEditor({ token, memRef, current, onDone }) {
  const [id] = useState(() => `editor-${++editorIds}`);
  const [name, setName] = useState(current?.name ?? '');
  const [text, setText] = useState(current ? JSON.stringify(current.value, null, 2) : '');
  const [expiresIn, setExpiresIn] = useState('');
  const [expected, setExpected] = useState(current ? current.version : 0);
  const [error, setError] = useState(null);
  const [conflict, setConflict] = useState(null);
  const [saving, setSaving] = useState(false);

  let parsed;
  let parseError = null;
  if (text.trim() === '') parseError = 'Enter a JSON value, e.g. "text", 42, true, null, [1, 2] or {"a": 1}.';
  else {
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      parseError = `Not valid JSON: ${e.message}`;
    }
  }
  const nameError = name.trim() === '' ? 'Enter a name.' : null;

  async function save(event) {
    event.preventDefault();
    if (parseError || nameError) return;
    setSaving(true);
    setError(null);
    const input = { ref: memRef, name: name.trim(), value: parsed, expectedVersion: expected };
    if (expiresIn.trim()) input.expiresIn = expiresIn.trim();
    try {
      await gql(token, SET_VARIABLE, { input });
      onDone(true);
    } catch (e) {
      if (e.code === 'CONFLICT') {
        const now = await currentVariable(token, memRef, input.name);
        setConflict({ expected, current: now });
        if (now !== undefined) setExpected(now ? now.version : 0);
      } else {
        setError(e);
      }
      setSaving(false);
    }
  }

  return html`<form class="editor" onSubmit=${save} aria-label=${current ? `Edit ${current.name}` : 'Set a variable'}>
    ${!current &&
    html`<label for=${id + '-name'}>Name</label>
      <input id=${id + '-name'} name="name" value=${name} autocomplete="off" required
        onInput=${(e) => setName(e.currentTarget.value)} />`}
    <label for=${id + '-value'}>Value (JSON)</label>
    <textarea id=${id + '-value'} name="value" rows=${Math.min(12, Math.max(3, text.split('\n').length))}
      spellcheck="false" aria-invalid=${parseError ? 'true' : 'false'} aria-describedby=${id + '-value-help'}
      onInput=${(e) => setText(e.currentTarget.value)} value=${text}></textarea>
    <p id=${id + '-value-help'} class=${parseError ? 'field-error' : 'field-ok'}>${parseError || 'Valid JSON.'}</p>
    <label for=${id + '-expires'}>Expires in <span class="muted">(optional: 90s, 5m, 2h, P1D)</span></label>
    <input id=${id + '-expires'} name="expiresIn" value=${expiresIn} autocomplete="off"
      placeholder="no expiry given" onInput=${(e) => setExpiresIn(e.currentTarget.value)} />
    <p class="muted">
      ${expected === 0 ? 'Saving expects the variable not to exist yet.' : `Saving expects version ${expected}.`}
    </p>
    ${current && current.version !== expected && !conflict &&
    html`<p class="warning" role="status">It changed to version ${current.version} while you edit: saving will report a conflict.</p>`}
    ${conflict && html`<${Conflict} name=${name} expected=${conflict.expected} current=${conflict.current} />`}
    ${error && html`<div class="error" role="alert"><strong>${error.code}</strong>: ${error.message}</div>`}
    <div class="actions">
      <button type="submit" class="primary" disabled=${saving || !!parseError || !!nameError}>${saving ? 'Saving…' : 'Save'}</button>
      <button type="button" onClick=${() => onDone(false)}>Cancel</button>
    </div>
  </form>`;
}

function UnsetConfirm({ token, memRef, variable, onDone }) {
  const [error, setError] = useState(null);
  const [conflict, setConflict] = useState(null);
  const [expected, setExpected] = useState(variable.version);
  async function unset() {
    setError(null);
    try {
      await gql(token, UNSET_VARIABLE, { ref: memRef, name: variable.name, expectedVersion: expected });
      onDone(true);
    } catch (e) {
      if (e.code === 'CONFLICT') {
        const now = await currentVariable(token, memRef, variable.name);
        setConflict({ expected, current: now });
        if (now) setExpected(now.version);
      } else setError(e);
    }
  }
  return html`<div class="confirm" role="group" aria-label=${`Unset ${variable.name}`}>
    <p>Remove <code>${variable.name}</code> (expecting version ${expected})?</p>
    ${conflict && html`<${Conflict} name=${variable.name} expected=${conflict.expected} current=${conflict.current} />`}
    ${error && html`<div class="error" role="alert"><strong>${error.code}</strong>: ${error.message}</div>`}
    <div class="actions">
      <button type="button" class="danger" onClick=${unset}>Confirm unset</button>
      <button type="button" onClick=${() => onDone(false)}>Keep</button>
    </div>
  </div>`;
}

/// A live memory event applied to a memory as read: the value and
/// versions now, the expiry until the memory is read again.
export function applyMemoryEvent(memory, ev) {
  if (!memory) return memory;
  const old = memory.variables.find((v) => v.name === ev.name);
  let variables = memory.variables.filter((v) => v.name !== ev.name);
  if (ev.op === 'SET' || ev.op === 'PROMOTED') {
    variables = [
      ...variables,
      {
        name: ev.name,
        value: ev.value,
        version: ev.version,
        expiresAt: old?.expiresAt ?? null,
        createdAt: old?.createdAt ?? ev.at,
        updatedAt: ev.at,
      },
    ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return { ...memory, version: Math.max(memory.version, ev.memoryVersion), variables };
}
