export interface Auth {
  url: string;
  token: string;
}

const URL_KEY = 'polder.runnerUrl';
const TOKEN_KEY = 'polder.token';

export function loadAuth(): Auth | null {
  try {
    const url = localStorage.getItem(URL_KEY);
    const token = localStorage.getItem(TOKEN_KEY);
    return url && token ? { url, token } : null;
  } catch {
    return null;
  }
}

export function saveAuth(a: Auth): void {
  localStorage.setItem(URL_KEY, a.url);
  localStorage.setItem(TOKEN_KEY, a.token);
}

export function clearAuth(): void {
  localStorage.removeItem(URL_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

/** The default runner URL: the page's own origin (the runner serves the UI), when it is http(s). */
export function defaultRunnerUrl(): string {
  const o = window.location.origin;
  return o.startsWith('http') ? o : 'http://127.0.0.1:7878';
}
