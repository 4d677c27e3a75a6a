// Datasets: REST ingest (rows posted to /api/ingest/<name>, logged, then flushed into
// day-partitioned Parquet), their counters, flush and merge on request, and ingest tokens (which
// may only post rows). Shapes follow crates/runner/src/api/ingest.rs (DatasetView, DatasetList,
// DatasetDetail, FlushDone, MergeDone, TokenInfo, NewToken, CreatedToken).
import type { ApiClient } from './client';

const seg = encodeURIComponent;
const JSON_HEADERS = { 'Content-Type': 'application/json' };

export type DatasetColumnType = 'str' | 'i64' | 'f64' | 'bool' | 'date' | 'timestamp';

/** A declared column. */
export interface DatasetColumn {
  name: string;
  type: DatasetColumnType;
  /** Whether a row may lack it or hold null. */
  nullable: boolean;
}

/** When the log is flushed into Parquet: whichever limit is reached first. */
export interface FlushPolicy {
  max_rows: number;
  max_bytes: number;
  max_age_secs: number;
}

/** A dataset's declaration and state (counters count since the runner started). */
export interface DatasetView {
  name: string;
  description: string | null;
  columns: DatasetColumn[];
  /** The day-partitioning column (null: day of arrival). */
  event_time: string | null;
  /** What happens to undeclared fields. */
  unknown_fields: 'reject' | 'keep';
  /** Where the Parquet goes (relative to the workspace, or s3://…). */
  path: string;
  /** The connection for an s3:// path. */
  connection: string | null;
  flush: FlushPolicy;
  rows_received: number;
  batches_accepted: number;
  batches_rejected: number;
  throttled: number;
  rows_pending: number;
  bytes_pending: number;
  /** Arrival of the oldest waiting row (ms since the epoch). */
  oldest_pending_ms: number | null;
  flushes: number;
  rows_flushed: number;
  /** When the last flush that wrote rows ended (ms since the epoch). */
  last_flush_ms: number | null;
  merges: number;
  /** The last flush or merge error (rows stay in the log until it succeeds). */
  error: string | null;
}

/** A declaration that does not load: its file name and what is wrong. */
export interface DatasetProblem {
  name: string;
  message: string;
}

/** GET /api/datasets. */
export interface DatasetList {
  datasets: DatasetView[];
  problems: DatasetProblem[];
}

/** GET /api/datasets/{name}: the state plus the files the manifest lists. */
export interface DatasetDetail extends DatasetView {
  files: string[];
  /** The last log entry the files hold. */
  flushed_through: number;
}

/** POST /api/datasets/{name}/flush. */
export interface FlushDone {
  rows: number;
  /** Files written, relative to the dataset's folder. */
  files: string[];
}

/** POST /api/datasets/{name}/merge. */
export interface MergeDone {
  days: string[];
  files_in: number;
  removed: number;
}

/** An ingest token's record (never the token). */
export interface TokenInfo {
  id: string;
  /** Who uses it. */
  name: string;
  /** The datasets it may post to. */
  datasets: string[];
  /** RFC 3339. */
  created_at: string;
}

/** POST /api/ingest-tokens body. */
export interface NewToken {
  name: string;
  datasets: string[];
}

/** A token just made: `token` (pit_…) is shown this once and cannot be read again. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

export function listDatasets(client: ApiClient, signal?: AbortSignal): Promise<DatasetList> {
  return client.json('/api/datasets', { signal });
}

export function getDataset(client: ApiClient, name: string, signal?: AbortSignal): Promise<DatasetDetail> {
  return client.json(`/api/datasets/${seg(name)}`, { signal });
}

/** Flushes the dataset's log now. */
export function flushDataset(client: ApiClient, name: string): Promise<FlushDone> {
  return client.json(`/api/datasets/${seg(name)}/flush`, { method: 'POST' });
}

/** Merges every day with several files into one (open days too). */
export function mergeDataset(client: ApiClient, name: string): Promise<MergeDone> {
  return client.json(`/api/datasets/${seg(name)}/merge`, { method: 'POST', query: { all: true } });
}

export function listTokens(client: ApiClient, signal?: AbortSignal): Promise<TokenInfo[]> {
  return client.json('/api/ingest-tokens', { signal });
}

export function createToken(client: ApiClient, req: NewToken): Promise<CreatedToken> {
  return client.json('/api/ingest-tokens', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(req) });
}

export async function revokeToken(client: ApiClient, id: string): Promise<void> {
  await client.request(`/api/ingest-tokens/${seg(id)}`, { method: 'DELETE' });
}

/** The dataset's rows route (the grid adds offset, limit, format, sort and filter). */
export function datasetOutputPath(name: string): string {
  return `/api/datasets/${seg(name)}/output`;
}

// ---- Display helpers, shared by the explorer section and the dataset view ----

const int = new Intl.NumberFormat('en-US');

export const formatCount = (n: number): string => int.format(n);

/** 1536 → "1.5 KB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** 90 → "1 min 30 s", 3600 → "1 h". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** How long ago `ms` was, for people: "just now", "5 s ago", "3 min ago", "2 h ago", "4 days ago". */
export function timeAgo(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  const d = Math.floor(h / 24);
  return `${d} days ago`;
}

/** The flush policy in one line: "1,000,000 rows · 64 MB · 1 h". */
export function describeFlush(f: FlushPolicy): string {
  return `${formatCount(f.max_rows)} rows · ${formatBytes(f.max_bytes)} · ${formatSeconds(f.max_age_secs)}`;
}

const SAMPLE: Record<DatasetColumnType, unknown> = {
  str: 'text',
  i64: 1,
  f64: 1.5,
  bool: true,
  date: '2025-01-31',
  timestamp: '2025-01-31T12:00:00Z',
};

/** One row that fits the columns, for the example request. */
export function sampleRow(columns: readonly DatasetColumn[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((c) => [c.name, SAMPLE[c.type] ?? null]));
}

/** Quotes text for a POSIX shell (single quotes; a `'` inside becomes `'\''`). */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A curl command that posts one example row to the dataset with an ingest token. */
export function curlExample(runnerUrl: string, ds: Pick<DatasetView, 'name' | 'columns'>, token = '<ingest token>'): string {
  const url = `${runnerUrl.replace(/\/+$/, '')}/api/ingest/${seg(ds.name)}`;
  const row = JSON.stringify(sampleRow(ds.columns));
  return `curl -X POST -H ${shellQuote(`Authorization: Bearer ${token}`)} -H 'Content-Type: application/json' --data ${shellQuote(row)} ${url}`;
}
