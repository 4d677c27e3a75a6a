// The line above every task cell: kind, id, what it reads, unsaved state, the selected run's
// outcome for the task, and the cell's actions.
import type { ReactNode } from 'react';
import { formatCount, formatDuration } from '../../api/runState';
import type { TaskDef } from '../../api/types';
import '../details/details.css';

const KIND_ICON: Record<string, string> = { source: '⇥', sql: 'Σ', validate: '✓', sink: '⇲', shell: '$', python: 'Py' };

export interface CellRun {
  status: string;
  rows: number | null;
  durationMs: number | null;
  /** The run's error for the task, when it failed, and where it points in the task's text. */
  error?: string | null;
  errorLocation?: { line: number; column: number } | null;
}

export function CellHeader({ task, dirty, run, children }: { task: TaskDef; dirty: boolean; run: CellRun | null; children?: ReactNode }) {
  return (
    <div className="nb-cell-head">
      <span className={`nb-kind kind-${task.kind}`} title={task.kind}>
        {KIND_ICON[task.kind] ?? '•'}
      </span>
      <span className="nb-id mono">{task.id}</span>
      {dirty && <span className="nb-dirty" title="Unsaved changes (Ctrl+S saves)" data-testid={`cell-dirty-${task.id}`} />}
      {task.upstream.length > 0 && (
        <span className="nb-upstream muted ellipsis" title={`reads ${task.upstream.join(', ')}`}>
          ← {task.upstream.join(', ')}
        </span>
      )}
      <span className="spacer" />
      {task.changed_since_success && (
        <span className="changed-mark" data-testid={`cell-changed-${task.id}`} title="Changed since the last successful run: its saved text or settings differ from what that run used">
          ● changed
        </span>
      )}
      {run && (
        <span className="nb-run muted" data-testid={`cell-run-${task.id}`} data-state={run.status}>
          <span className={`dot state-${run.status}`} /> {run.status.replace('_', ' ')}
          {run.rows != null && ` · ${formatCount(run.rows)} rows`}
          {run.durationMs != null && ` · ${formatDuration(run.durationMs)}`}
        </span>
      )}
      {children}
    </div>
  );
}
