import { useEffect, useRef, useState } from 'react';
import { filterLabel, filterProblem, FILTER_OPS, opNeedsValue, type Filter, type FilterOp } from './viewQuery';

/**
 * The view's filter conditions as chips, and a small form that adds one. The form opens from
 * "+ Filter" or from a header menu (`draft` presets its column).
 */
export function FilterBar({
  columns,
  filters,
  onChange,
  draft,
  onDraftClose,
}: {
  columns: readonly string[];
  filters: readonly Filter[];
  onChange: (filters: Filter[]) => void;
  /** A column to start a new filter on (header menu), or null. */
  draft: { column: string } | null;
  onDraftClose: () => void;
}) {
  const [open, setOpen] = useState(false);
  const [column, setColumn] = useState(columns[0] ?? '');
  const [op, setOp] = useState<FilterOp>('eq');
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const valueRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!draft) return;
    setColumn(draft.column);
    setOpen(true);
    setProblem(null);
  }, [draft]);

  useEffect(() => {
    if (open) valueRef.current?.focus();
  }, [open, column]);

  const close = () => {
    setOpen(false);
    setProblem(null);
    onDraftClose();
  };

  const apply = () => {
    const f: Filter = { column, op, value: opNeedsValue(op) ? value : '' };
    const why = filterProblem(f);
    if (why) {
      setProblem(why);
      return;
    }
    onChange([...filters, f]);
    setValue('');
    close();
  };

  return (
    <div className="pg-filters" data-testid="grid-filters">
      {filters.map((f, i) => (
        <span className="pg-chip" key={`${i}:${filterLabel(f)}`} data-testid={`grid-filter-chip-${i}`}>
          {filterLabel(f)}
          <button
            className="pg-chip-x"
            title="Remove this filter"
            aria-label={`Remove filter ${filterLabel(f)}`}
            onClick={() => onChange(filters.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </span>
      ))}
      {filters.length > 1 && (
        <button className="pg-link" data-testid="grid-filter-clear" onClick={() => onChange([])}>
          clear
        </button>
      )}
      {!open && (
        <button className="pg-link" data-testid="grid-filter-add" onClick={() => setOpen(true)} title="Add a filter (runs on the runner)">
          + Filter
        </button>
      )}
      {open && (
        <form
          className="pg-filter-form"
          onSubmit={(e) => {
            e.preventDefault();
            apply();
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') close();
          }}
        >
          <select data-testid="grid-filter-column" value={column} onChange={(e) => setColumn(e.target.value)}>
            {columns.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <select data-testid="grid-filter-op" value={op} onChange={(e) => setOp(e.target.value as FilterOp)}>
            {FILTER_OPS.map((o) => (
              <option key={o.op} value={o.op}>
                {o.label}
              </option>
            ))}
          </select>
          {opNeedsValue(op) && (
            <input
              ref={valueRef}
              data-testid="grid-filter-value"
              value={value}
              placeholder="value"
              onChange={(e) => setValue(e.target.value)}
              spellCheck={false}
            />
          )}
          <button type="submit" className="pg-btn" data-testid="grid-filter-apply">
            Apply
          </button>
          <button type="button" className="pg-link" onClick={close}>
            cancel
          </button>
          {problem && <span className="pg-problem">{problem}</span>}
        </form>
      )}
    </div>
  );
}
