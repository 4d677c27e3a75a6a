import { useEffect, useRef, useState } from 'react';
import type { TaskKind } from '../../api/types';
import { idProblem, mayReadInput, needsInput } from './taskSpec';

/**
 * Inline form shown where a palette kind was dropped: the new task's id, and the `input` of
 * validate and sink tasks, or the upstream a new Python function reads (none allowed).
 */
export function NewTaskForm(props: {
  kind: TaskKind;
  at: { left: number; top: number };
  suggestion: string;
  taken: string[];
  inputChoices: string[];
  defaultInput: string | null;
  onSubmit: (id: string, input: string | null) => void;
  onCancel: () => void;
}) {
  const { kind, at, suggestion, taken, inputChoices, defaultInput, onSubmit, onCancel } = props;
  const [id, setId] = useState(suggestion);
  const [input, setInput] = useState<string | null>(defaultInput);
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.select();
  }, []);
  const problem = idProblem(id.trim(), taken);
  const missingInput = needsInput(kind) && !input;
  const submit = () => {
    if (!problem && !missingInput) onSubmit(id.trim(), needsInput(kind) || mayReadInput(kind) ? input : null);
  };
  return (
    <form
      className="dag-new-task"
      data-testid="new-task-form"
      style={{ left: at.left, top: at.top }}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Escape') onCancel();
      }}
    >
      <div className="dag-new-task-title">New {kind} task</div>
      <input ref={ref} data-testid="new-task-id" value={id} spellCheck={false} onChange={(e) => setId(e.target.value)} aria-label="Task id" />
      {needsInput(kind) &&
        (inputChoices.length ? (
          <label className="dag-new-task-input">
            input
            <select data-testid="new-task-input" value={input ?? ''} onChange={(e) => setInput(e.target.value || null)}>
              {inputChoices.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <div className="err small">A {kind} task reads an upstream task: add a source first.</div>
        ))}
      {mayReadInput(kind) && inputChoices.length > 0 && (
        <label className="dag-new-task-input">
          reads
          <select data-testid="new-task-input" value={input ?? ''} onChange={(e) => setInput(e.target.value || null)}>
            <option value="">(nothing)</option>
            {inputChoices.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      )}
      {problem && id.trim() !== '' && <div className="err small" data-testid="new-task-problem">{problem}</div>}
      <div className="dag-new-task-buttons">
        <button type="button" className="ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" data-testid="new-task-add" disabled={!!problem || missingInput}>
          Add
        </button>
      </div>
    </form>
  );
}
