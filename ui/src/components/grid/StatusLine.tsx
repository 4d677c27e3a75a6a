import { useEffect, useState } from 'react';
import type { PagedSource } from './pagedSource';

const fmt = new Intl.NumberFormat('en-US');

function mb(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} kB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Under the grid: the selected cell's row and full value, copy/export notices, and load timing
 * (first page, last page, what the page cache holds). Re-renders on page arrivals by itself so
 * the grid does not.
 */
export function StatusLine({
  source,
  cell,
  names,
  notice,
}: {
  source: PagedSource | null;
  cell: readonly [number, number] | undefined;
  names: readonly string[];
  notice: { text: string; error?: boolean } | null;
}) {
  const [lastMs, setLastMs] = useState<number | null>(null);
  const [, setTick] = useState(0);
  useEffect(() => {
    setLastMs(null);
    if (!source) return;
    return source.onLoad((info) => {
      setLastMs(info.ms);
      setTick((t) => t + 1);
    });
  }, [source]);

  // The selected cell's page may have left the LRU (the user scrolled far away): fetch that row.
  const [fetched, setFetched] = useState<{ key: string; text: string | null } | null>(null);
  const col = cell?.[0] ?? -1;
  const row = cell?.[1] ?? -1;
  const inRange = !!source && row >= 0 && row < source.total && col >= 0;
  const cached = inRange ? source.text(col, row) : undefined;
  const key = `${col}:${row}`;
  useEffect(() => {
    if (!source || !inRange || cached !== undefined) return;
    const ctrl = new AbortController();
    source.rowsFor([[row, row + 1]], ctrl.signal).then(
      (get) => setFetched({ key, text: get(row, col) }),
      () => undefined,
    );
    return () => ctrl.abort();
  }, [source, inRange, cached, row, col, key]);

  let value: string | null = null;
  if (inRange) {
    const t = cached !== undefined ? cached : fetched?.key === key ? fetched.text : undefined;
    value = `row ${fmt.format(row + 1)} · ${names[col] ?? '?'} = ${t === undefined ? '…' : t === null ? 'null' : t}`;
  }

  return (
    <div className="pg-status">
      <span className="pg-status-value mono" data-testid="grid-cell-value" title={value ?? undefined}>
        {value ?? (source ? 'Select a cell to see its full value' : '')}
      </span>
      {notice && (
        <span className={notice.error ? 'pg-notice pg-notice-error' : 'pg-notice'} data-testid="grid-notice">
          {notice.text}
        </span>
      )}
      <span className="spacer" />
      {source && (
        <span className="pg-timing" data-testid="grid-timing">
          first page {Math.round(source.firstMs)} ms
          {lastMs !== null && ` · last ${Math.round(lastMs)} ms`}
          {` · ${source.cachedPages} page${source.cachedPages === 1 ? '' : 's'} (${mb(source.cachedBytes)}) cached`}
          {source.pending > 0 && ' · loading…'}
        </span>
      )}
    </div>
  );
}
