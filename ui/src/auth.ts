export interface Auth {
  url: string;
  token: string;
}

const URL_KEY = 'polder.runnerUrl';
const TOKEN_KEY = 'polder.token';

/** What the desktop app hands its window: the embedded runner and this launch's token. */
export interface DesktopInfo {
  url: string;
  token: string;
  workspace: string;
}

declare global {
  interface Window {
    __POLDER_DESKTOP__?: DesktopInfo;
  }
}

/** The desktop app's runner, when this page runs in it (set by its initialization script). */
export function desktopInfo(): DesktopInfo | null {
  const d = typeof window === 'undefined' ? undefined : window.__POLDER_DESKTOP__;
  return d && typeof d.token === 'string' && typeof d.url === 'string' ? d : null;
}

/** The runner to talk to: the desktop app's own, else the one signed in to (kept in localStorage). */
export function loadAuth(): Auth | null {
  const desktop = desktopInfo();
  // The desktop token lives in memory only: it changes every launch and is never stored.
  if (desktop) return { url: desktop.url, token: desktop.token };
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
