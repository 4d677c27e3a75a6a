import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../api/client';
import {
  connectionBody,
  connectionNameProblem,
  deleteConnection,
  initialForm,
  listConnections,
  putConnection,
  secretState,
  setting,
  settingText,
  testConnection,
  type Connection,
  type ConnectionForm,
  type ConnectionsAnswer,
  type ConnectionTypeInfo,
} from '../../api/connections';
import '../overlay.css';
import './connections.css';

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

type TestState = { state: 'busy' } | { state: 'done'; ok: boolean; message: string };

/**
 * Settings → Connections: the workspace's connections.toml on this runner. Secret settings show
 * only whether they are set; typed secret values go to the runner once and never come back.
 */
export function ConnectionsView({ client, onClose }: { client: ApiClient; onClose: () => void }) {
  const [data, setData] = useState<ConnectionsAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The form: a new connection (name null) or the one being edited. */
  const [editing, setEditing] = useState<{ name: string | null } | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const [tests, setTests] = useState<Record<string, TestState>>({});

  const reload = () =>
    listConnections(client)
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((e: unknown) => setError(msg(e)));
  useEffect(() => {
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- load once per dialog
  }, []);

  // Escape closes the form (or the delete question) first, then the dialog.
  const escape = useRef<() => void>(onClose);
  escape.current = () => {
    if (editing) setEditing(null);
    else if (confirmDelete) setConfirmDelete(null);
    else onClose();
  };
  useEffect(() => {
    const key = (e: KeyboardEvent) => e.key === 'Escape' && escape.current();
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, []);

  const forget = (name: string) =>
    setTests((t) => {
      const next = { ...t };
      delete next[name];
      return next;
    });

  const test = async (c: Connection) => {
    setTests((t) => ({ ...t, [c.name]: { state: 'busy' } }));
    // The bucket it names (a plain value); null lets the runner decide.
    const bucket = setting(c, 'bucket')?.value ?? null;
    let result: TestState;
    try {
      const r = await testConnection(client, c.name, bucket);
      result = { state: 'done', ok: r.ok, message: r.message };
    } catch (e) {
      result = { state: 'done', ok: false, message: msg(e) };
    }
    setTests((t) => ({ ...t, [c.name]: result }));
  };

  const remove = async (name: string) => {
    setConfirmDelete(null);
    try {
      await deleteConnection(client, name);
      forget(name);
      await reload();
    } catch (e) {
      setError(msg(e));
    }
  };

  const typeOf = (t: string): ConnectionTypeInfo | undefined => data?.types.find((x) => x.type === t);
  const editedConnection = editing?.name ? (data?.connections.find((c) => c.name === editing.name) ?? null) : null;

  return (
    <div className="overlay" onClick={onClose}>
      <div className="dialog connections" onClick={(e) => e.stopPropagation()} role="dialog" aria-label="Connections" data-testid="connections-view">
        <div className="connections-title">
          <h3>Connections</h3>
          <span className="spacer" />
          <button className="icon" onClick={onClose} title="Close (Escape)" aria-label="Close" data-testid="connections-close">
            ✕
          </button>
        </div>
        <p className="muted small">
          Named settings that pipelines use to reach data (<code>s3://…</code> through a connection), kept in{' '}
          <code>{data?.file ?? 'connections.toml'}</code> at this runner's workspace root. Secret settings are written there only as
          references (<code>{'${env:NAME}'}</code>, or <code>{'${secret:NAME}'}</code> for a value typed here, which the runner keeps in its
          secret store) and are never shown again.
        </p>
        {data?.error && (
          <div className="error-box small" data-testid="connections-file-error">
            {data.error}
          </div>
        )}
        {data && data.connections.length === 0 && !data.error && !editing && (
          <p className="muted" data-testid="connections-empty">
            No connections yet: add one for each object store your pipelines read or write.
          </p>
        )}
        {!editing && (
          <ul className="connection-list">
            {data?.connections.map((c) => {
              const info = typeOf(c.type);
              const endpoint = settingText(c, 'endpoint');
              const bucket = settingText(c, 'bucket');
              const secrets = c.settings.filter((s) => s.secret);
              const t = tests[c.name];
              return (
                <li key={c.name} data-testid={`connection-row-${c.name}`}>
                  <div className="connection-head">
                    <b className="mono">{c.name}</b>
                    <span className="connection-type">{c.type}</span>
                    <span className="mono muted ellipsis" title={[endpoint, bucket].filter(Boolean).join(' · ')}>
                      {endpoint ?? 'default endpoint'}
                      {bucket ? ` · bucket ${bucket}` : ''}
                    </span>
                    <span className="spacer" />
                    <button className="link" onClick={() => void test(c)} disabled={t?.state === 'busy'} data-testid={`connection-test-${c.name}`}>
                      Test
                    </button>
                    <button
                      className="link"
                      onClick={() => setEditing({ name: c.name })}
                      disabled={!info}
                      title={info ? undefined : `this runner does not know connection type ${c.type}`}
                      data-testid={`connection-edit-${c.name}`}
                    >
                      Edit
                    </button>
                    <button className="link danger" onClick={() => setConfirmDelete(c.name)} data-testid={`connection-delete-${c.name}`}>
                      Delete
                    </button>
                  </div>
                  <div className="connection-meta small">
                    <span className={c.problem ? 'err' : 'ok'} data-testid={`connection-status-${c.name}`}>
                      {c.problem ?? 'ok'}
                    </span>
                    {secrets.map((s) => {
                      const state = secretState(s);
                      return (
                        <span key={s.key} className="connection-secret" title={s.reference ?? undefined}>
                          <span className="muted">{s.key}</span>{' '}
                          <span className={state === 'set' ? 'ok' : 'muted'} data-testid={`connection-secret-${c.name}-${s.key}`}>
                            {state}
                          </span>
                        </span>
                      );
                    })}
                  </div>
                  {t && (
                    <div
                      className={`connection-test small ${t.state === 'busy' ? 'muted' : t.ok ? 'ok' : 'err'}`}
                      data-testid={`connection-test-result-${c.name}`}
                      data-state={t.state}
                      data-ok={t.state === 'done' ? String(t.ok) : undefined}
                    >
                      {t.state === 'busy' ? 'testing…' : t.message}
                    </div>
                  )}
                  {confirmDelete === c.name && (
                    <div className="connection-confirm small" role="alertdialog">
                      <span className="spacer">
                        Delete <b>{c.name}</b> from {data.file}? Pipelines that use it stop working until it is defined again.
                      </span>
                      <button className="primary danger" onClick={() => void remove(c.name)} data-testid={`connection-delete-confirm-${c.name}`}>
                        Delete
                      </button>
                      <button onClick={() => setConfirmDelete(null)} data-testid={`connection-delete-cancel-${c.name}`}>
                        Cancel
                      </button>
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
        )}
        {editing && data && (
          <ConnectionFormView
            key={editing.name ?? '(new)'}
            client={client}
            data={data}
            existing={editedConnection}
            onCancel={() => setEditing(null)}
            onSaved={(name) => {
              forget(name);
              setEditing(null);
              void reload();
            }}
          />
        )}
        {!editing && data && data.types.length > 0 && (
          <div className="connection-actions">
            <button className="primary" onClick={() => setEditing({ name: null })} data-testid="connection-add">
              Add connection
            </button>
          </div>
        )}
        {error && (
          <div className="error-box small" data-testid="connections-error">
            {error}
          </div>
        )}
      </div>
    </div>
  );
}

const PLACEHOLDERS: Record<string, string> = {
  endpoint: 'https://s3.eu-west-1.amazonaws.com or http://host:9000',
  bucket: 'default bucket (optional)',
  region: 'us-east-1',
};

/** Add or edit one connection. Typed secret values stay in uncontrolled password inputs (never in state) until saved. */
function ConnectionFormView({
  client,
  data,
  existing,
  onCancel,
  onSaved,
}: {
  client: ApiClient;
  data: ConnectionsAnswer;
  existing: Connection | null;
  onCancel: () => void;
  onSaved: (name: string) => void;
}) {
  const isNew = existing === null;
  const [name, setName] = useState('');
  const [type, setType] = useState(existing?.type ?? data.types[0]?.type ?? '');
  const info = data.types.find((t) => t.type === type);
  const [form, setForm] = useState<ConnectionForm | null>(() => (info ? initialForm(info, existing) : null));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const secretInputs = useRef<Record<string, HTMLInputElement | null>>({});

  const clearSecrets = () => {
    for (const el of Object.values(secretInputs.current)) if (el) el.value = '';
  };

  const changeType = (t: string) => {
    setType(t);
    const i = data.types.find((x) => x.type === t);
    setForm(i ? initialForm(i, null) : null);
  };

  const save = async () => {
    if (!info || !form) return;
    const n = isNew ? name.trim() : existing.name;
    const problem = connectionNameProblem(n);
    if (problem) return setError(problem);
    if (isNew && data.connections.some((c) => c.name === n)) return setError(`A connection named "${n}" exists already: edit it instead.`);
    // Secret values are read from their inputs only now.
    const filled: ConnectionForm = { ...form, secret: { ...form.secret } };
    for (const [key, f] of Object.entries(form.secret)) {
      if (f.mode === 'value') filled.secret[key] = { mode: 'value', text: secretInputs.current[key]?.value ?? '' };
    }
    setBusy(true);
    setError(null);
    try {
      await putConnection(client, n, connectionBody(info, filled, existing));
      clearSecrets();
      onSaved(n);
    } catch (e) {
      setError(msg(e));
      setBusy(false);
    }
  };

  const setText = (key: string, v: string) => setForm((f) => f && { ...f, text: { ...f.text, [key]: v } });
  const setBool = (key: string, v: boolean) => setForm((f) => f && { ...f, bool: { ...f.bool, [key]: v } });
  const setSecret = (key: string, v: { mode: 'value' | 'reference'; text: string }) => setForm((f) => f && { ...f, secret: { ...f.secret, [key]: v } });

  return (
    <form
      className="connection-form"
      data-testid="connection-form"
      autoComplete="off"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h4>{isNew ? 'New connection' : `Edit ${existing.name}`}</h4>
      <div className="connection-grid">
        {isNew && (
          <>
            <label htmlFor="connection-name">name</label>
            <input
              id="connection-name"
              className="mono"
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                setError(null);
              }}
              placeholder="lake (letters, digits, _ and -)"
              autoFocus
              required
              data-testid="connection-field-name"
            />
            <span />
          </>
        )}
        <label htmlFor="connection-type">type</label>
        <select id="connection-type" value={type} onChange={(e) => changeType(e.target.value)} disabled={!isNew} data-testid="connection-field-type">
          {data.types.map((t) => (
            <option key={t.type} value={t.type}>
              {t.type}
            </option>
          ))}
        </select>
        <span />
        {info?.settings.map((s) => {
          const id = `connection-${s.key}`;
          const cur = existing ? setting(existing, s.key) : undefined;
          if (s.kind === 'bool' && !s.secret) {
            return [
              <label key={`${s.key}-l`} htmlFor={id}>
                {s.key}
              </label>,
              <span key={`${s.key}-i`} className="connection-check">
                <input id={id} type="checkbox" checked={form?.bool[s.key] ?? false} onChange={(e) => setBool(s.key, e.target.checked)} data-testid={`connection-field-${s.key}`} />
              </span>,
              <span key={`${s.key}-x`} />,
            ];
          }
          if (!s.secret) {
            return [
              <label key={`${s.key}-l`} htmlFor={id}>
                {s.key}
              </label>,
              <input
                key={`${s.key}-i`}
                id={id}
                className="mono"
                value={form?.text[s.key] ?? ''}
                onChange={(e) => setText(s.key, e.target.value)}
                placeholder={PLACEHOLDERS[s.key] ?? 'value or ${env:NAME}'}
                data-testid={`connection-field-${s.key}`}
              />,
              <span key={`${s.key}-x`} />,
            ];
          }
          const f = form?.secret[s.key] ?? { mode: 'value' as const, text: '' };
          return [
            <label key={`${s.key}-l`} htmlFor={id}>
              {s.key} <span className="muted small">secret</span>
            </label>,
            <span key={`${s.key}-i`} className="connection-secret-input">
              {f.mode === 'value' ? (
                <input
                  key="value"
                  id={id}
                  type="password"
                  className="mono"
                  autoComplete="new-password"
                  ref={(el) => {
                    secretInputs.current[s.key] = el;
                  }}
                  placeholder={cur?.reference ? 'unchanged' : 'not set'}
                  data-testid={`connection-field-${s.key}`}
                />
              ) : (
                <input
                  key="reference"
                  id={id}
                  className="mono"
                  list="connection-secret-refs"
                  value={f.text}
                  onChange={(e) => setSecret(s.key, { mode: 'reference', text: e.target.value })}
                  placeholder={cur?.reference ? `unchanged (${cur.reference})` : '${env:NAME} or ${secret:NAME}'}
                  data-testid={`connection-field-${s.key}`}
                />
              )}
              {cur?.reference && (
                <span className="muted small" data-testid={`connection-current-${s.key}`}>
                  now <code>{cur.reference}</code>
                  {cur.resolved ? '' : ', which does not resolve on this runner'}
                </span>
              )}
            </span>,
            <label key={`${s.key}-x`} className="connection-ref-toggle small" title="Enter a reference (${env:NAME} or ${secret:NAME}) instead of the value">
              <input
                type="checkbox"
                checked={f.mode === 'reference'}
                onChange={(e) => setSecret(s.key, e.target.checked ? { mode: 'reference', text: cur?.reference ?? '' } : { mode: 'value', text: '' })}
                data-testid={`connection-ref-${s.key}`}
              />{' '}
              reference
            </label>,
          ];
        })}
      </div>
      <datalist id="connection-secret-refs">
        {data.secrets.map((n) => (
          <option key={n} value={`\${secret:${n}}`} />
        ))}
      </datalist>
      <p className="muted small">
        Typed secret values are stored by the runner and written as <code>{'${secret:<name>-<setting>}'}</code>; a secret left empty keeps
        what it has now.
      </p>
      {error && (
        <div className="error-box small" data-testid="connection-form-error">
          {error}
        </div>
      )}
      <div className="connection-actions">
        <button type="button" onClick={onCancel} data-testid="connection-cancel">
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy || !form} data-testid="connection-save">
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}
