// Ingest tokens (beside a dataset): tokens that may only POST rows to the datasets they name.
// List, create (the token is shown once, with a copy button) and revoke.
import { useEffect, useMemo, useReducer, useState } from 'react';
import type { ApiClient } from '../../api/client';
import type { NewToken } from '../../api/datasets';
import { CopyButton } from './CopyButton';
import { INITIAL_TOKENS, tokenActions, tokensReducer, type TokensState } from './tokensState';
import './datasets.css';

export function IngestTokens(props: {
  client: ApiClient;
  /** The dataset on screen: new tokens name it unless unticked. */
  dataset: string;
  /** Revoking is a DELETE, which a watched remote runner is not sent. */
  canRevoke?: boolean;
  onUnauthorized?: (message: string) => void;
}) {
  const { client, dataset, canRevoke = true, onUnauthorized } = props;
  const [state, dispatch] = useReducer(tokensReducer, INITIAL_TOKENS);
  const actions = useMemo(() => tokenActions(client, dispatch, onUnauthorized), [client, onUnauthorized]);
  const [form, setForm] = useState<NewToken>({ name: '', datasets: [dataset] });
  const [confirm, setConfirm] = useState<string | null>(null);

  useEffect(() => {
    void actions.load();
  }, [actions]);
  // Another dataset on screen: the form names it.
  useEffect(() => setForm((f) => ({ ...f, datasets: [dataset] })), [dataset]);

  return (
    <IngestTokensView
      state={state}
      form={form}
      current={dataset}
      confirm={confirm}
      canRevoke={canRevoke}
      on={{
        name: (name) => setForm((f) => ({ ...f, name })),
        toggle: (name, on) =>
          setForm((f) => ({ ...f, datasets: on ? [...f.datasets.filter((d) => d !== name), name] : f.datasets.filter((d) => d !== name) })),
        create: () =>
          void actions.create(form).then((made) => {
            if (made) setForm({ name: '', datasets: [dataset] });
          }),
        dismiss: actions.dismiss,
        askRevoke: setConfirm,
        revoke: (id) => {
          setConfirm(null);
          void actions.revoke(id);
        },
      }}
    />
  );
}

/** The panel itself (no state of its own). */
export function IngestTokensView(props: {
  state: TokensState;
  form: NewToken;
  current: string;
  /** The token whose revoking waits for a second click. */
  confirm: string | null;
  canRevoke: boolean;
  on: {
    name: (name: string) => void;
    toggle: (dataset: string, on: boolean) => void;
    create: () => void;
    dismiss: () => void;
    askRevoke: (id: string | null) => void;
    revoke: (id: string) => void;
  };
}) {
  const { state, form, current, confirm, canRevoke, on } = props;
  const { created } = state;
  // The form offers every served dataset, the current one (even when not served) and any already picked.
  const offered = [...new Set([current, ...state.datasets, ...form.datasets])].sort();
  return (
    <section className="ds-tokens" data-testid="ingest-tokens">
      <div className="panel-title">
        <span>Ingest tokens</span>
      </div>
      <div className="ds-tokens-body">
        <p className="muted small">
          A token here may only <code>POST /api/ingest/&lt;dataset&gt;</code> for the datasets it names: it reads nothing and starts nothing.
        </p>
        {created && (
          <div className="ds-token-created" data-testid="token-created" role="status">
            <div>
              New token <b>{created.name}</b> for {created.datasets.join(', ')}:
            </div>
            <div className="ds-token-secret">
              <code data-testid="token-value">{created.token}</code>
              <CopyButton text={created.token} testId="token-copy" />
            </div>
            <div className="small">
              <b>Copy it now: it cannot be shown again.</b> The runner keeps only its hash.
            </div>
            <div className="ds-token-actions">
              <button onClick={on.dismiss} data-testid="token-dismiss">
                Done
              </button>
            </div>
          </div>
        )}
        <form
          className="ds-token-form"
          autoComplete="off"
          onSubmit={(e) => {
            e.preventDefault();
            on.create();
          }}
        >
          <input
            value={form.name}
            onChange={(e) => on.name(e.target.value)}
            placeholder="who uses it, e.g. web-tracker"
            aria-label="Token name"
            data-testid="token-name"
          />
          <div className="ds-token-datasets" role="group" aria-label="Datasets it may post to">
            {offered.map((d) => (
              <label key={d} className="small">
                <input
                  type="checkbox"
                  checked={form.datasets.includes(d)}
                  onChange={(e) => on.toggle(d, e.target.checked)}
                  data-testid={`token-dataset-${d}`}
                />{' '}
                <span className="mono">{d}</span>
              </label>
            ))}
          </div>
          <button type="submit" className="primary" disabled={state.busy} data-testid="token-create">
            Create token
          </button>
        </form>
        {state.error && (
          <div className="error-box small" data-testid="tokens-error">
            {state.error}
          </div>
        )}
        {state.tokens === null && !state.error && <div className="muted small">Loading tokens…</div>}
        {state.tokens?.length === 0 && <div className="muted small" data-testid="tokens-empty">No ingest tokens yet.</div>}
        <ul className="ds-token-list">
          {state.tokens?.map((t) => (
            <li key={t.id} data-testid={`token-row-${t.name}`} data-id={t.id}>
              <div className="ds-token-head">
                <b className="ellipsis">{t.name || '(no name)'}</b>
                <span className="spacer" />
                {confirm === t.id ? (
                  <>
                    <button className="primary danger" onClick={() => on.revoke(t.id)} data-testid={`token-revoke-confirm-${t.name}`}>
                      Revoke
                    </button>
                    <button onClick={() => on.askRevoke(null)}>Keep</button>
                  </>
                ) : (
                  <button
                    className="link danger"
                    onClick={() => on.askRevoke(t.id)}
                    disabled={!canRevoke || state.busy}
                    title={canRevoke ? 'Revoke: posts with it are refused from then on' : 'Revoke it on that runner'}
                    data-testid={`token-revoke-${t.name}`}
                  >
                    Revoke
                  </button>
                )}
              </div>
              <div className="small muted">
                {t.datasets.map((d, i) => (
                  <span key={d}>
                    {i > 0 && ', '}
                    <span className={d === current ? 'mono ds-current' : 'mono'}>{d}</span>
                  </span>
                ))}
                {' · '}
                <span title={t.created_at}>made {new Date(t.created_at).toLocaleString()}</span>
              </div>
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}
