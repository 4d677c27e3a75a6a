// Between cells: "+ SQL cell", "+ Python" and "+ Source" (each asks for the new task's id inline) and "+ Note".
import { useState } from 'react';
import { taskIdProblem } from '../../api/notebook';

export type NewCellKind = 'sql' | 'python' | 'source';

const WHAT: Record<NewCellKind, string> = { sql: 'SQL task', python: 'Python task', source: 'source' };

export function AddBar({
  slot,
  taken,
  onAdd,
  onAddNote,
  alwaysVisible,
}: {
  /** Test-id suffix: the task above, or "top". */
  slot: string;
  taken: string[];
  /** Resolves to an error message, or null when the cell was created. */
  onAdd: (kind: NewCellKind, id: string) => Promise<string | null>;
  onAddNote: () => void;
  alwaysVisible?: boolean;
}) {
  const [asking, setAsking] = useState<NewCellKind | null>(null);
  const [id, setId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    const problem = taskIdProblem(id.trim(), taken);
    if (problem) return setError(problem);
    setBusy(true);
    const err = await onAdd(asking ?? 'sql', id.trim());
    setBusy(false);
    if (err) setError(err);
    else {
      setAsking(null);
      setId('');
      setError(null);
    }
  };

  return (
    <div className={`nb-add${asking || alwaysVisible ? ' open' : ''}`} data-testid={`add-bar-${slot}`}>
      {!asking ? (
        <>
          <button className="ghost small" onClick={() => setAsking('sql')} data-testid={`add-sql-${slot}`}>
            + SQL cell
          </button>
          <button className="ghost small" onClick={() => setAsking('python')} data-testid={`add-python-${slot}`}>
            + Python
          </button>
          <button className="ghost small" onClick={() => setAsking('source')} data-testid={`add-source-${slot}`}>
            + Source
          </button>
          <button className="ghost small" onClick={onAddNote} data-testid={`add-note-${slot}`}>
            + Note
          </button>
        </>
      ) : (
        <form
          className="nb-add-form"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <span className="muted">New {WHAT[asking]} id</span>
          <input
            autoFocus
            value={id}
            placeholder="e.g. top_customers"
            spellCheck={false}
            onChange={(e) => {
              setId(e.target.value);
              setError(null);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                setAsking(null);
                setError(null);
              }
            }}
            disabled={busy}
            data-testid="new-cell-id"
          />
          <button className="primary small" type="submit" disabled={busy} data-testid="new-cell-create">
            {busy ? 'Adding…' : 'Add'}
          </button>
          <button className="ghost small" type="button" onClick={() => setAsking(null)}>
            Cancel
          </button>
          {error && (
            <span className="err" data-testid="new-cell-error">
              {error}
            </span>
          )}
        </form>
      )}
    </div>
  );
}
