import { useEffect, useState } from 'react';
import type { ApiClient } from '../../api/client';
import { deleteRemote, listRemotes, putRemote, suggestRemoteName, type RemoteRunner } from '../../api/remotes';
import '../overlay.css';
import './deploy.css';

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Settings → Runners: the remote runners this runner deploys to. Tokens go in, never come back. */
export function RemotesSettings({ client, onClose, onChanged }: { client: ApiClient; onClose: () => void; onChanged?: () => void }) {
  const [remotes, setRemotes] = useState<RemoteRunner[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);

  const reload = () =>
    listRemotes(client)
      .then((r) => setRemotes(r))
      .catch((e: unknown) => setError(msg(e)));
  useEffect(() => {
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- load once per dialog
  }, []);
  useEffect(() => {
    const key = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, [onClose]);

  const add = async () => {
    const n = name.trim() || suggestRemoteName(url, (remotes ?? []).map((r) => r.name));
    setBusy(true);
    setError(null);
    try {
      await putRemote(client, n, url.trim(), token.trim());
      setUrl('');
      setName('');
      setToken('');
      await reload();
      onChanged?.();
    } catch (e) {
      setError(msg(e));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (n: string) => {
    try {
      await deleteRemote(client, n);
      await reload();
      onChanged?.();
    } catch (e) {
      setError(msg(e));
    }
  };

  return (
    <div className="overlay" onClick={onClose}>
      <div className="dialog remotes" onClick={(e) => e.stopPropagation()} role="dialog" aria-label="Runners" data-testid="remotes-settings">
        <h3>Runners</h3>
        <p className="muted small">
          Deploy pipelines to these runners and watch their runs (switch in the top bar). Tokens are kept by this runner, in the OS
          keyring when the desktop app has one, else in a file only its owner can read, and never shown again.
        </p>
        {remotes?.length === 0 && <p className="muted">No remote runners yet: add the URL and token of your team's runner.</p>}
        <ul className="remote-list">
          {remotes?.map((r) => (
            <li key={r.name} data-testid={`remote-${r.name}`}>
              <b>{r.name}</b> <span className="mono muted">{r.url}</span>
              {r.token_store && (
                <span className="muted small" data-testid={`remote-store-${r.name}`}>
                  {r.token_store === 'keyring' ? '🔑 token in OS keyring' : 'token in owner-only file'}
                </span>
              )}
              <span className="spacer" />
              <button className="link" onClick={() => void remove(r.name)} data-testid={`remote-delete-${r.name}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
        <form
          className="remote-form"
          onSubmit={(e) => {
            e.preventDefault();
            void add();
          }}
        >
          <input placeholder="http://host:7878" value={url} onChange={(e) => setUrl(e.target.value)} data-testid="remote-url" required />
          <input placeholder="name (optional)" value={name} onChange={(e) => setName(e.target.value)} data-testid="remote-name" />
          <input placeholder="API token" type="password" value={token} onChange={(e) => setToken(e.target.value)} data-testid="remote-token" />
          <button className="primary" disabled={busy || !url.trim()} data-testid="remote-add">
            Save
          </button>
        </form>
        {error && (
          <div className="error-box small" data-testid="remotes-error">
            {error}
          </div>
        )}
      </div>
    </div>
  );
}
