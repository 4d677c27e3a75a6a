import { useRef, useState } from 'react';
import type { ExportFormat } from '../../api/arrowPages';
import { useDismiss } from '../useDismiss';

/** "Export ▾": the current view (sort + filter) as CSV or Parquet. */
export function ExportMenu({ onExport, busy }: { onExport: (f: ExportFormat) => void; busy: boolean }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLSpanElement>(null);
  useDismiss(open, [box], () => setOpen(false));
  const pick = (f: ExportFormat) => {
    setOpen(false);
    onExport(f);
  };
  return (
    <span className="pg-export" ref={box}>
      <button
        className="pg-link"
        data-testid="grid-export"
        disabled={busy}
        onClick={() => setOpen((o) => !o)}
        title="Save this view as a file"
        aria-expanded={open}
      >
        {busy ? 'Exporting…' : 'Export ▾'}
      </button>
      {open && (
        <span className="pg-export-menu" role="menu" data-testid="grid-export-menu">
          <button className="pg-menu-item" data-testid="grid-export-csv" onClick={() => pick('csv')}>
            CSV
          </button>
          <button className="pg-menu-item" data-testid="grid-export-parquet" onClick={() => pick('parquet')}>
            Parquet
          </button>
        </span>
      )}
    </span>
  );
}
