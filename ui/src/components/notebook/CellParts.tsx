// Pieces every task cell shares: its props, the header's buttons, a refused save's message, and
// the note shown when a code cell's file changed on disk under unsaved edits.
import { useEffect, useState } from 'react';
import type { ApiClient } from '../../api/client';
import type { PreviewResult } from '../../api/notebook';
import type { PipelineDetail, TaskDef } from '../../api/types';
import type { CellRun } from './CellHeader';

export interface CellProps {
  client: ApiClient;
  pipeline: string;
  task: TaskDef;
  run: CellRun | null;
  theme: 'light' | 'dark';
  selected: boolean;
  autoFocus: boolean;
  onSelect: () => void;
  onPipelineChange: (p: PipelineDetail) => void;
  /** A preview's columns, so later cells can complete them before the task has run. */
  onSchema: (schema: PreviewResult['schema']) => void;
  onDelete: () => void;
  /** The cell fills the notebook (the other cells hidden); code cells offer the toggle. */
  maximized?: boolean;
  onToggleMaximize?: () => void;
}

/** Why the runner refused a cell's last save (the text stays as typed). */
export function SaveError({ task, error }: { task: string; error: string | null }) {
  if (!error) return null;
  return (
    <div className="error-box small nb-save-error" data-testid={`cell-save-error-${task}`}>
      Not saved: {error}
    </div>
  );
}

/** The file of a code cell changed on disk while the user was editing: their text is kept. */
export function ConflictNote({ task, what, onTake, onKeep }: { task: string; what: string; onTake: () => void; onKeep: () => void }) {
  return (
    <div className="nb-conflict" data-testid={`cell-conflict-${task}`}>
      The {what} of <b>{task}</b> changed on disk while you were editing; your unsaved text is kept.{' '}
      <button className="link" onClick={onTake} data-testid={`cell-conflict-take-${task}`}>
        Use the file's version
      </button>{' '}
      <button className="link" onClick={onKeep} title="Keep your text; saving it replaces the file">
        Keep mine
      </button>
    </div>
  );
}

/** Preview / save / delete buttons of a cell header. */
export function CellActions({
  task,
  onPreview,
  onSave,
  saving,
  onDelete,
  maximized,
  onToggleMaximize,
}: {
  task: string;
  onPreview: (() => void) | null;
  onSave: (() => void) | null;
  saving: boolean;
  onDelete: () => void;
  maximized?: boolean;
  onToggleMaximize?: () => void;
}) {
  const [confirm, setConfirm] = useState(false);
  useEffect(() => {
    if (!confirm) return;
    const t = setTimeout(() => setConfirm(false), 3000);
    return () => clearTimeout(t);
  }, [confirm]);
  return (
    <span className="nb-actions">
      {onSave && (
        <button className="ghost small" onClick={onSave} disabled={saving} title="Save (Ctrl+S)" data-testid={`cell-save-${task}`}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      )}
      {onPreview && (
        <button className="ghost small" onClick={onPreview} title="Preview (Shift+Enter)" data-testid={`cell-run-button-${task}`}>
          ▶ Preview
        </button>
      )}
      {onToggleMaximize && (
        <button
          className="ghost small"
          onClick={onToggleMaximize}
          title={maximized ? 'Back to all cells' : 'Maximize this cell (the other cells are hidden until you restore it)'}
          aria-pressed={!!maximized}
          data-testid={`cell-maximize-${task}`}
        >
          {maximized ? '⤡' : '⤢'}
        </button>
      )}
      <button
        className={`ghost small${confirm ? ' danger' : ''}`}
        onClick={() => (confirm ? onDelete() : setConfirm(true))}
        title="Remove this task from the pipeline"
        data-testid={`cell-delete-${task}`}
      >
        {confirm ? 'Delete?' : '✕'}
      </button>
    </span>
  );
}
