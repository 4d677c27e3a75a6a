// The one door to Monaco: a dynamic import, so the 4 MB editor loads only when a notebook
// cell first needs it, and only once.
import type * as MonacoApi from 'monaco-editor/editor';

export type Monaco = typeof MonacoApi;

let loading: Promise<Monaco> | null = null;

export function loadMonaco(): Promise<Monaco> {
  loading ??= import('./setup').then((m) => m.monaco);
  return loading;
}

/** Marker owner of engine errors in code cells, SQL and Python (one owner per source of markers). */
export const ENGINE_MARKER_OWNER = 'polder-engine';
