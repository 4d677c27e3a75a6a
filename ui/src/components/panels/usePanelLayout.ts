// The workbench layout as React state: remembered in localStorage under the workspace's key,
// fitted to the window as it resizes, and drawn through CSS variables on the app's root.
import { useCallback, useEffect, useMemo, useRef, useState, type CSSProperties, type RefObject } from 'react';
import {
  fitLayout,
  layoutKey,
  parseLayout,
  resizePanel,
  toggleCollapsed,
  toggleMaximized,
  type FittedLayout,
  type PanelId,
  type PanelLayout,
} from './panelLayout';

const viewportNow = () => ({ width: window.innerWidth, height: window.innerHeight });

function read(key: string): PanelLayout {
  try {
    return parseLayout(localStorage.getItem(key));
  } catch {
    return parseLayout(null);
  }
}

/** CSS variables the grid templates in styles.css read. */
export function layoutStyle(f: FittedLayout): CSSProperties {
  return {
    '--explorer-w': `${f.explorer}px`,
    '--side-w': `${f.side}px`,
    '--output-h': `${f.output}px`,
  } as CSSProperties;
}

export interface PanelLayoutApi {
  /** What the user chose (remembered). */
  layout: PanelLayout;
  /** What is drawn now. */
  fitted: FittedLayout;
  style: CSSProperties;
  /** The app's root element, whose CSS variables a drag updates directly (no re-render per move). */
  rootRef: RefObject<HTMLDivElement | null>;
  /** A splitter is being dragged to `px`: draw it, remember nothing yet. */
  preview: (id: PanelId, px: number) => void;
  /** A splitter was dropped at `px`. */
  resize: (id: PanelId, px: number) => void;
  toggle: (id: PanelId) => void;
  toggleMaximize: () => void;
  /** Back to the default size (a splitter's double-click). */
  reset: (id: PanelId) => void;
}

export function usePanelLayout(workspace: string): PanelLayoutApi {
  const key = layoutKey(workspace);
  const [state, setState] = useState(() => ({ key, layout: read(key) }));
  // Another workspace (a new sign-in): its own layout.
  const layout = state.key === key ? state.layout : read(key);
  if (state.key !== key) setState({ key, layout });
  const [viewport, setViewport] = useState(viewportNow);
  useEffect(() => {
    const on = () => setViewport(viewportNow());
    window.addEventListener('resize', on);
    return () => window.removeEventListener('resize', on);
  }, []);

  const update = useCallback(
    (f: (l: PanelLayout) => PanelLayout) =>
      setState((s) => {
        const next = f(s.layout);
        try {
          localStorage.setItem(s.key, JSON.stringify(next));
        } catch {
          // Storage full or disabled: the layout still applies for this session.
        }
        return { ...s, layout: next };
      }),
    [],
  );

  const fitted = useMemo(() => fitLayout(layout, viewport), [layout, viewport]);
  const rootRef = useRef<HTMLDivElement | null>(null);
  const preview = useCallback(
    (id: PanelId, px: number) => {
      const el = rootRef.current;
      if (!el) return;
      for (const [k, v] of Object.entries(layoutStyle(fitLayout(resizePanel(layout, id, px), viewport)))) el.style.setProperty(k, String(v));
    },
    [layout, viewport],
  );
  return {
    layout,
    fitted,
    style: useMemo(() => layoutStyle(fitted), [fitted]),
    rootRef,
    preview,
    resize: useCallback((id, px) => update((l) => resizePanel(l, id, px)), [update]),
    toggle: useCallback((id) => update((l) => toggleCollapsed(l, id)), [update]),
    toggleMaximize: useCallback(() => update(toggleMaximized), [update]),
    reset: useCallback(
      (id) => update((l) => ({ ...l, [id]: parseLayout(null)[id], collapsed: { ...l.collapsed, [id]: false } })),
      [update],
    ),
  };
}
