// The explorer's "Datasets" section: every dataset the runner serves for REST ingest (rows
// received, rows waiting for a flush, the last flush, an error badge), and the declarations in
// ingest/*.toml that do not load. Refreshed every few seconds while open and visible.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type ApiClient } from '../../api/client';
import { formatCount, listDatasets, timeAgo, type DatasetList } from '../../api/datasets';
import { usePolling } from './usePolling';
import './datasets.css';

/** How often the list refreshes while shown. */
export const DATASETS_POLL_MS = 3000;

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const OPEN_KEY = 'polder.datasetsOpen';

export function DatasetsSection(props: {
  client: ApiClient;
  selected: string | null;
  onSelect: (name: string) => void;
  /** Changes when something may have changed the datasets (live events, a flush): reloads at once. */
  refreshKey?: number;
  /** A 401: the caller signs out. */
  onUnauthorized?: (message: string) => void;
}) {
  const { client, selected, onSelect, refreshKey, onUnauthorized } = props;
  const [open, setOpen] = useState(() => localStorage.getItem(OPEN_KEY) !== 'false');
  useEffect(() => localStorage.setItem(OPEN_KEY, String(open)), [open]);
  const [list, setList] = useState<{ data: DatasetList; at: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  // One request at a time per runner; answers for another client (a runner switch) are dropped.
  const inFlight = useRef<ApiClient | null>(null);
  const clientRef = useRef(client);
  clientRef.current = client;
  const load = useCallback(() => {
    if (inFlight.current === client) return;
    inFlight.current = client;
    listDatasets(client)
      .then(
        (data) => {
          if (clientRef.current !== client) return;
          setList({ data, at: Date.now() });
          setError(null);
        },
        (e: unknown) => {
          if (clientRef.current !== client) return;
          if (e instanceof ApiError && e.status === 401 && onUnauthorized) onUnauthorized(e.message);
          else setError(msg(e));
        },
      )
      .finally(() => {
        if (inFlight.current === client) inFlight.current = null;
      });
  }, [client, onUnauthorized]);

  // Another runner: forget the old list and load the new one now.
  const shownClient = useRef(client);
  useEffect(() => {
    if (shownClient.current === client) return;
    shownClient.current = client;
    setList(null);
    setError(null);
    if (open) load();
  }, [client, open, load]);
  usePolling(load, DATASETS_POLL_MS, open);
  useEffect(() => {
    if (open && refreshKey) load();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only a new refreshKey reloads here; polling does the rest
  }, [refreshKey]);

  return (
    <section className="datasets-section" data-testid="datasets-section">
      <div className="panel-title">
        <button
          className="ds-toggle"
          onClick={() => setOpen((o) => !o)}
          aria-expanded={open}
          title={open ? 'Hide datasets' : 'Show datasets'}
          data-testid="datasets-toggle"
        >
          {open ? '▾' : '▸'} Datasets
        </button>
        {open && (
          <button className="icon" title="Reload datasets" onClick={load}>
            ⟳
          </button>
        )}
      </div>
      {open && <DatasetsList data={list?.data ?? null} error={error} now={list?.at ?? 0} selected={selected} onSelect={onSelect} />}
    </section>
  );
}

/** The list itself (no state): datasets with their counters, then declarations that do not load. */
export function DatasetsList(props: {
  data: DatasetList | null;
  error: string | null;
  /** The time relative times are counted from (when the list was fetched). */
  now: number;
  selected: string | null;
  onSelect: (name: string) => void;
}) {
  const { data, error, now, selected, onSelect } = props;
  return (
    <>
      {error && (
        <div className="error-box small" data-testid="datasets-error">
          {error}
        </div>
      )}
      {data === null && !error && <div className="muted pad">Loading…</div>}
      {data && data.datasets.length === 0 && data.problems.length === 0 && (
        <div className="empty pad small" data-testid="datasets-empty">
          No datasets. Declare one in <code>ingest/&lt;name&gt;.toml</code> to take rows over HTTP.
        </div>
      )}
      <ul className="list">
        {data?.datasets.map((d) => (
          <li
            key={d.name}
            data-testid={`dataset-${d.name}`}
            className={d.name === selected ? 'item selected' : 'item'}
            onClick={() => onSelect(d.name)}
            title={d.description ?? d.name}
          >
            <div className="item-main ds-item-head">
              <span className="ellipsis">{d.name}</span>
              {d.error && (
                <span className="ds-badge ds-badge-err" title={d.error} data-testid={`dataset-error-${d.name}`}>
                  error
                </span>
              )}
            </div>
            <div className="item-sub muted">
              <span data-testid={`dataset-received-${d.name}`} data-value={d.rows_received}>
                {formatCount(d.rows_received)} received
              </span>
              {' · '}
              <span data-testid={`dataset-pending-${d.name}`} data-value={d.rows_pending}>
                {formatCount(d.rows_pending)} pending
              </span>
            </div>
            <div className="item-sub muted" data-testid={`dataset-flushed-${d.name}`}>
              {d.last_flush_ms === null ? 'not flushed yet' : `flushed ${timeAgo(d.last_flush_ms, now)}`}
            </div>
            {d.error && (
              <div className="item-sub err ds-item-error" title={d.error}>
                {d.error}
              </div>
            )}
          </li>
        ))}
        {data?.problems.map((p) => (
          <li key={`problem-${p.name}`} className="item invalid" title={p.message} data-testid={`dataset-problem-${p.name}`}>
            <div className="item-main ds-item-head">
              <span className="ellipsis">{p.name}</span>
              <span className="ds-badge ds-badge-err">invalid</span>
            </div>
            <div className="item-sub err ds-item-error">{p.message}</div>
          </li>
        ))}
      </ul>
    </>
  );
}
