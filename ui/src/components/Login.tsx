import { useState, type FormEvent } from 'react';
import { ApiClient, ApiError } from '../api/client';
import { defaultRunnerUrl, type Auth } from '../auth';

export function Login({ onLogin, initialError }: { onLogin: (a: Auth) => void; initialError?: string | null }) {
  const [url, setUrl] = useState(defaultRunnerUrl);
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(initialError ?? null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const auth = { url: url.trim().replace(/\/+$/, ''), token: token.trim() };
    try {
      await new ApiClient(auth.url, auth.token).listPipelines(); // checks URL and token
      onLogin(auth);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form className="login-card" onSubmit={submit}>
        <h1>
          <span className="logo">◧</span> Polder
        </h1>
        <p className="muted">Connect to a Polder runner. Start one with <code>polder serve</code>; it prints its token (or set <code>POLDER_TOKEN</code>).</p>
        <label>
          Runner URL
          <input data-testid="login-url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="http://127.0.0.1:7878" required />
        </label>
        <label>
          Token
          <input data-testid="login-token" type="password" value={token} onChange={(e) => setToken(e.target.value)} autoFocus required />
        </label>
        {error && <div className="error-box" role="alert">{error}</div>}
        <button data-testid="login-submit" className="primary" type="submit" disabled={busy}>
          {busy ? 'Connecting…' : 'Connect'}
        </button>
      </form>
    </div>
  );
}
