import { useState } from 'react';
import type { ExportFormat } from '../../api/arrowPages';

/** "Export ▾": the current view (sort + filter) as CSV or Parquet. */
export function ExportMenu({ onExport, busy }: { onExport: (f: ExportFormat) => void; busy: boolean }) {
  const [open, setOpen] = useState(false);
  const pick = (f: ExportFormat) => {
    setOpen(false);
    onExport(f);
  };
  return (
    <span className="pg-export" onBlur={(e) => !e.currentTarget.contains(e.relatedTarget as Node) && setOpen(false)}>
      <button className="pg-link" data-testid="grid-export" disabled={busy} onClick={() => setOpen((o) => !o)} title="Save this view as a file">
        {busy ? 'Exporting…' : 'Export ▾'}
      </button>
      {open && (
        <span className="pg-export-menu">
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
