import { useEffect, useRef, useState } from 'react';
import type { ConnectPlan } from './dataEdge';

export type EdgeChoiceValue = 'read' | 'after';

/**
 * Asked when A → B is drawn onto a SQL or Python task: read A in B (its query or function changes)
 * or only run after A (`inputs`). Enter accepts the choice shown (the default unless changed),
 * Escape cancels; ↑/↓ or 1/2 switch.
 */
export function EdgeChoice({
  plan,
  at,
  onChoose,
  onCancel,
}: {
  plan: ConnectPlan;
  at: { left: number; top: number };
  onChoose: (choice: EdgeChoiceValue) => void;
  onCancel: () => void;
}) {
  const [choice, setChoice] = useState<EdgeChoiceValue>(plan.read.ok ? plan.defaultChoice : 'after');
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLInputElement>('input:checked')?.focus();
  }, []);
  const { from, to, read } = plan;
  const pick = (c: EdgeChoiceValue) => {
    if (c === 'read' && !read.ok) return;
    setChoice(c);
    ref.current?.querySelector<HTMLInputElement>(`input[value="${c}"]`)?.focus();
  };
  return (
    <form
      ref={ref}
      className="dag-edge-choice"
      data-testid="edge-choice"
      role="dialog"
      aria-label={`Connect ${from} to ${to}`}
      style={{ left: at.left, top: at.top }}
      onSubmit={(e) => {
        e.preventDefault();
        onChoose(choice);
      }}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Escape') {
          e.preventDefault();
          onCancel();
        } else if (e.key === 'Enter' && (e.target as HTMLElement).tagName !== 'BUTTON') {
          e.preventDefault();
          onChoose(choice);
        } else if (e.key === '1') pick('read');
        else if (e.key === '2') pick('after');
      }}
    >
      <div className="dag-edge-choice-title">
        Connect <code>{from}</code> → <code>{to}</code>
      </div>
      <label className={`dag-edge-option${read.ok ? '' : ' disabled'}`} data-testid="edge-choice-read-label">
        <input
          type="radio"
          name="edge-choice"
          value="read"
          data-testid="edge-choice-read"
          checked={choice === 'read'}
          disabled={!read.ok}
          onChange={() => setChoice('read')}
        />
        <span>
          <span className="dag-edge-option-name">
            Read <code>{from}</code> in <code>{to}</code>
          </span>
          <span className="dag-edge-option-why">{read.ok ? read.summary : read.why}</span>
        </span>
      </label>
      <label className="dag-edge-option" data-testid="edge-choice-after-label">
        <input type="radio" name="edge-choice" value="after" data-testid="edge-choice-after" checked={choice === 'after'} onChange={() => setChoice('after')} />
        <span>
          <span className="dag-edge-option-name">
            Run after <code>{from}</code>
          </span>
          <span className="dag-edge-option-why">order only: adds {from} to the inputs of {to}</span>
        </span>
      </label>
      <div className="dag-edge-choice-buttons">
        <span className="muted small">Enter accepts · Esc cancels</span>
        <button type="button" className="ghost" data-testid="edge-choice-cancel" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" data-testid="edge-choice-ok">
          Connect
        </button>
      </div>
    </form>
  );
}
