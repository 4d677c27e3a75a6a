// Under a cell: the preview's rows in a grid with "N rows · M ms", or the engine's error.
import { lazy, Suspense } from 'react';
import { formatCount } from '../../api/runState';
import { PREVIEW_LIMIT, type PreviewResult } from '../../api/notebook';

// The grid (glide-data-grid) loads with the first preview, not with the app.
const StaticGrid = lazy(() => import('../grid/StaticGrid').then((m) => ({ default: m.StaticGrid })));

export type PreviewState =
  | { status: 'idle' }
  | { status: 'running' }
  | { status: 'ok'; result: PreviewResult }
  | { status: 'error'; message: string };

export function PreviewPanel({ task, state, themeKey, onClose }: { task: string; state: PreviewState; themeKey: string; onClose: () => void }) {
  if (state.status === 'idle') return null;
  return (
    <div className="nb-preview" data-testid={`cell-preview-${task}`} data-status={state.status}>
      <div className="nb-preview-bar">
        {state.status === 'running' && <span className="muted">Running preview…</span>}
        {state.status === 'ok' && (
          <span className="muted" data-testid={`cell-preview-stats-${task}`}>
            {state.result.rows.length >= PREVIEW_LIMIT ? `first ${formatCount(PREVIEW_LIMIT)}` : formatCount(state.result.rows.length)}{' '}
            {state.result.rows.length === 1 ? 'row' : 'rows'} · {state.result.elapsed_ms} ms
          </span>
        )}
        {state.status === 'error' && <span className="err">Preview failed</span>}
        <span className="spacer" />
        <button className="icon" onClick={onClose} title="Close the preview" data-testid={`cell-preview-close-${task}`}>
          ✕
        </button>
      </div>
      {state.status === 'ok' && (
        <Suspense fallback={<div className="muted small">Loading the grid…</div>}>
          <StaticGrid schema={state.result.schema} rows={state.result.rows} themeKey={themeKey} testId={`cell-grid-${task}`} maxHeight={300} />
        </Suspense>
      )}
      {state.status === 'error' && (
        <pre className="nb-error" data-testid={`cell-error-${task}`}>
          {state.message}
        </pre>
      )}
    </div>
  );
}
