import type { TaskKind } from '../../api/types';
import { KIND_ICON } from './TaskNode';
import { KINDS } from './taskSpec';

/** The drag payload's type: a task kind dragged from the palette onto the canvas. */
export const KIND_MIME = 'application/x-polder-kind';

const HINT: Record<TaskKind, string> = {
  source: 'Read files (CSV, Parquet, JSON…)',
  sql: 'A SQL query over upstream tasks',
  python: 'A Python function over upstream tasks (Polars frames)',
  validate: 'Data quality checks on one upstream',
  sink: 'Write an upstream out (Parquet, CSV, DuckDB)',
  shell: 'Run a command',
};

/**
 * Task kinds to add: drag one onto the canvas (HTML5 drag and drop; the canvas handles the drop),
 * or click it (or Enter on it) to place it in a free spot, beside the selected task if any.
 */
export function Palette({ onAdd }: { onAdd: (kind: TaskKind) => void }) {
  return (
    <div className="dag-palette" data-testid="palette" role="toolbar" aria-label="Add a task">
      {KINDS.map((k) => (
        <div
          key={k}
          className="dag-palette-item"
          data-testid={`palette-${k}`}
          role="button"
          tabIndex={0}
          draggable
          title={`${HINT[k]} — click to add, or drag onto the canvas`}
          onDragStart={(e) => {
            e.dataTransfer.setData(KIND_MIME, k);
            e.dataTransfer.effectAllowed = 'copy';
          }}
          onClick={() => onAdd(k)}
          onKeyDown={(e) => {
            if (e.key !== 'Enter' && e.key !== ' ') return;
            e.preventDefault();
            e.stopPropagation();
            onAdd(k);
          }}
        >
          <span className={`dag-kind-icon kind-${k}`}>{KIND_ICON[k]}</span>
          <span>{k}</span>
        </div>
      ))}
    </div>
  );
}
