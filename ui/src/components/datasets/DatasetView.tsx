// One dataset (REST ingest), in the centre when it is selected in the explorer: its declaration
// (columns, target, flush policy), its counters, "Flush now" and "Merge days", an example request,
// and its rows in the output grid (flushed rows, or with the rows still in the log).
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type ApiClient } from '../../api/client';
import {
  curlExample,
  describeFlush,
  flushDataset,
  formatBytes,
  formatCount,
  formatSeconds,
  getDataset,
  mergeDataset,
  timeAgo,
  type DatasetDetail,
  type FlushDone,
  type MergeDone,
} from '../../api/datasets';
import { CopyButton } from './CopyButton';
import { usePolling } from './usePolling';
import './datasets.css';

// The grid (glide-data-grid, apache-arrow) loads when rows are first shown, as in the app.
const OutputGrid = lazy(() => import('../OutputGrid').then((m) => ({ default: m.OutputGrid })));

/** How often the dataset's counters refresh while it is shown. */
export const DATASET_POLL_MS = 3000;

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

export type Busy = 'flush' | 'merge' | null;
export interface Notice {
  text: string;
  error?: boolean;
}

export function describeFlushDone(r: FlushDone): string {
  return r.rows === 0 ? 'Nothing to flush: no rows were waiting' : `Flushed ${plural(r.rows, 'row')} into ${plural(r.files.length, 'file')}`;
}

export function describeMergeDone(r: MergeDone): string {
  const removed = r.removed > 0 ? `; ${plural(r.removed, 'superseded file')} removed` : '';
  if (r.days.length === 0) return `No day has several files to merge${removed}`;
  return `Merged ${plural(r.days.length, 'day')} (${plural(r.files_in, 'file')} in)${removed}`;
}

/**
 * What the toolbar's buttons do: call the runner, say what happened, and tell the view that the
 * dataset changed (counters and rows reload). Plain functions, so tests can press them.
 */
export function datasetActions(
  client: ApiClient,
  name: string,
  on: { busy: (b: Busy) => void; notice: (n: Notice | null) => void; changed: () => void; unauthorized?: (message: string) => void },
) {
  const run = async <T,>(what: Exclude<Busy, null>, call: () => Promise<T>, describe: (r: T) => string) => {
    on.busy(what);
    on.notice(null);
    try {
      on.notice({ text: describe(await call()) });
      on.changed();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && on.unauthorized) on.unauthorized(e.message);
      else on.notice({ text: `${what === 'flush' ? 'Flush' : 'Merge'} failed: ${msg(e)}`, error: true });
    } finally {
      on.busy(null);
    }
  };
  return {
    flush: () => run('flush', () => flushDataset(client, name), describeFlushDone),
    merge: () => run('merge', () => mergeDataset(client, name), describeMergeDone),
  };
}

export function DatasetView(props: {
  client: ApiClient;
  name: string;
  /** The runner's URL, for the example request. */
  runnerUrl: string;
  themeKey: string;
  /** After a flush or merge (the explorer's list reloads). */
  onChanged?: () => void;
  onUnauthorized?: (message: string) => void;
}) {
  const { client, name, runnerUrl, themeKey, onChanged, onUnauthorized } = props;
  const [detail, setDetail] = useState<{ d: DatasetDetail; at: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [includeUnflushed, setIncludeUnflushed] = useState(false);
  const [rowsVersion, setRowsVersion] = useState(0);

  // One request at a time; a reload asked for meanwhile (after a flush) runs when it ends.
  const inFlight = useRef(false);
  const again = useRef(false);
  const load = useCallback(
    function reload(after = false) {
      if (inFlight.current) {
        again.current ||= after;
        return;
      }
      inFlight.current = true;
      getDataset(client, name)
        .then(
          (d) => {
            setDetail({ d, at: Date.now() });
            setError(null);
          },
          (e: unknown) => {
            if (e instanceof ApiError && e.status === 401 && onUnauthorized) onUnauthorized(e.message);
            else setError(msg(e));
          },
        )
        .finally(() => {
          inFlight.current = false;
          if (again.current) {
            again.current = false;
            reload();
          }
        });
    },
    [client, name, onUnauthorized],
  );
  usePolling(() => load(), DATASET_POLL_MS, true);

  // Rows change on disk with each flush or merge (ours or the runner's own): reload the grid then.
  const d = detail?.d ?? null;
  const written = d ? `${d.flushes}|${d.merges}|${d.flushed_through}` : '';
  const seen = useRef(written);
  useEffect(() => {
    if (!written || seen.current === written) return;
    if (seen.current) setRowsVersion((v) => v + 1);
    seen.current = written;
  }, [written]);

  const actions = datasetActions(client, name, {
    busy: setBusy,
    notice: setNotice,
    // The counters reload; a flush or merge that wrote files then reloads the rows (above).
    changed: () => {
      load(true);
      onChanged?.();
    },
    unauthorized: onUnauthorized,
  });

  return (
    <>
      <DatasetToolbar name={name} description={d?.description ?? null} busy={busy} notice={notice} onFlush={actions.flush} onMerge={actions.merge} />
      <div className="canvas ds-detail" data-testid="dataset-view" data-dataset={name}>
        {error && (
          <div className="error-box small" data-testid="dataset-load-error">
            {error}
          </div>
        )}
        {!d && !error && <div className="muted pad">Loading dataset…</div>}
        {d && <DatasetInfo detail={d} now={detail?.at ?? 0} runnerUrl={runnerUrl} />}
      </div>
      <div className="bottom">
        <div className="bottom-body">
          <Suspense fallback={<div className="empty center">Loading the grid…</div>}>
            <OutputGrid
              key={name}
              client={client}
              source={{ dataset: name, includeUnflushed }}
              refreshKey={rowsVersion}
              themeKey={themeKey}
              barExtra={
                <>
                  <label className="ds-unflushed" title="Also show the rows that are in the log and not written to Parquet yet">
                    <input
                      type="checkbox"
                      checked={includeUnflushed}
                      onChange={(e) => setIncludeUnflushed(e.target.checked)}
                      data-testid="dataset-include-unflushed"
                    />{' '}
                    include rows not flushed yet
                  </label>
                  <button className="icon" title="Reload the rows" onClick={() => setRowsVersion((v) => v + 1)} data-testid="dataset-rows-reload">
                    ⟳
                  </button>
                </>
              }
            />
          </Suspense>
        </div>
      </div>
    </>
  );
}

/** The dataset's toolbar: name, description, what the last action did, and the two actions. */
export function DatasetToolbar(props: {
  name: string;
  description: string | null;
  busy: Busy;
  notice: Notice | null;
  onFlush: () => void;
  onMerge: () => void;
}) {
  const { name, description, busy, notice, onFlush, onMerge } = props;
  return (
    <div className="toolbar">
      <span className="ds-kind">dataset</span>
      <span className="title" data-testid="dataset-title">
        {name}
      </span>
      {description && <span className="muted ellipsis">{description}</span>}
      <span className="spacer" />
      {busy && <span className="muted">{busy === 'flush' ? 'flushing…' : 'merging…'}</span>}
      {notice && (
        <span className={notice.error ? 'err ellipsis' : 'muted ellipsis'} title={notice.text} data-testid="dataset-notice">
          {notice.text}
        </span>
      )}
      <button
        onClick={onFlush}
        disabled={busy !== null}
        title="Write the rows waiting in the log to Parquet now (and start the pipelines the dataset triggers)"
        data-testid="dataset-flush"
      >
        Flush now
      </button>
      <button onClick={onMerge} disabled={busy !== null} title="Merge each day's files into one sorted file (open days too)" data-testid="dataset-merge">
        Merge days
      </button>
    </div>
  );
}

function Stat({ id, value, label, title }: { id: string; value: number | string; label: string; title?: string }) {
  return (
    <div className="ds-stat" data-testid={`dataset-stat-${id}`} data-value={value} title={title}>
      <div className="ds-stat-value">{typeof value === 'number' ? formatCount(value) : value}</div>
      <div className="ds-stat-label">{label}</div>
    </div>
  );
}

/** Counters, declaration, storage and an example request of one dataset (no state). */
export function DatasetInfo({ detail: d, now, runnerUrl }: { detail: DatasetDetail; now: number; runnerUrl: string }) {
  const curl = curlExample(runnerUrl, d);
  const lastFlush = d.last_flush_ms === null ? 'never' : timeAgo(d.last_flush_ms, now);
  return (
    <div className="ds-info">
      {d.error && (
        <div className="error-box small" data-testid="dataset-error">
          <b>Flushing fails</b> (rows stay in the log until it works): {d.error}
        </div>
      )}
      <section className="ds-stats" aria-label="Counters since the runner started">
        <Stat id="rows_received" value={d.rows_received} label="rows received" />
        <Stat id="batches_accepted" value={d.batches_accepted} label="batches accepted" />
        <Stat id="batches_rejected" value={d.batches_rejected} label="batches rejected" title="Refused for their content (400, 413, 415, 422)" />
        <Stat id="throttled" value={d.throttled} label="throttled (429)" />
        <Stat
          id="rows_pending"
          value={d.rows_pending}
          label="rows pending flush"
          title={d.oldest_pending_ms === null ? undefined : `the oldest arrived ${timeAgo(d.oldest_pending_ms, now)}`}
        />
        <Stat id="bytes_pending" value={formatBytes(d.bytes_pending)} label="pending bytes" />
        <Stat id="flushes" value={d.flushes} label="flushes" />
        <Stat id="rows_flushed" value={d.rows_flushed} label="rows flushed" />
        <Stat id="merges" value={d.merges} label="merges" />
        <Stat
          id="last_flush"
          value={lastFlush}
          label="last flush"
          title={d.last_flush_ms === null ? undefined : new Date(d.last_flush_ms).toLocaleString()}
        />
      </section>
      <p className="muted small ds-note">Counters count since the runner started.</p>
      <div className="ds-columns">
        <section>
          <h4>Columns</h4>
          <table className="ds-table" data-testid="dataset-columns">
            <thead>
              <tr>
                <th>name</th>
                <th>type</th>
                <th>nullable</th>
              </tr>
            </thead>
            <tbody>
              {d.columns.map((c) => (
                <tr key={c.name} data-testid={`dataset-column-${c.name}`}>
                  <td className="mono">
                    {c.name}
                    {c.name === d.event_time && (
                      <span className="ds-badge" title="Rows are partitioned by this column's UTC day">
                        event time
                      </span>
                    )}
                  </td>
                  <td className="mono">{c.type}</td>
                  <td>{c.nullable ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section>
          <h4>Storage</h4>
          <dl className="ds-props">
            <dt>target</dt>
            <dd className="mono" data-testid="dataset-path">
              {d.path}
              {d.connection && <span className="muted"> (connection {d.connection})</span>}
            </dd>
            <dt>partitioned</dt>
            <dd>{d.event_time ? <>by the UTC day of <code>{d.event_time}</code></> : 'by the day of arrival'}</dd>
            <dt>flush</dt>
            <dd data-testid="dataset-flush-policy" title="Whichever limit is reached first">
              at {describeFlush(d.flush)}
            </dd>
            <dt>unknown fields</dt>
            <dd>{d.unknown_fields === 'keep' ? 'kept in the _extra column' : 'refused'}</dd>
            <dt>files</dt>
            <dd title={d.files.join('\n')}>{plural(d.files.length, 'file')}</dd>
            {d.oldest_pending_ms !== null && (
              <>
                <dt>oldest waiting</dt>
                <dd>
                  {timeAgo(d.oldest_pending_ms, now)} (flushed by age after {formatSeconds(d.flush.max_age_secs)})
                </dd>
              </>
            )}
          </dl>
        </section>
      </div>
      <section>
        <h4>Send rows</h4>
        <p className="muted small">
          Post a JSON object or array, NDJSON (<code>application/x-ndjson</code>) or an Arrow IPC stream; the answer is 200 once the rows are
          on disk. Use an ingest token (on the right): it may only post rows to the datasets it names.
        </p>
        <div className="ds-curl">
          <code data-testid="dataset-curl">{curl}</code>
          <CopyButton text={curl} testId="dataset-curl-copy" />
        </div>
      </section>
    </div>
  );
}
