// Output pages as Arrow IPC: fetch a row range of a view, decode it, and slice it into pages
// that keep Arrow's column vectors (no row objects), formatting a cell only when it is painted.
import { tableFromIPC, type Table, type Vector } from 'apache-arrow';
import { columnFormat, type ColumnFormat } from '../components/grid/arrowValues';
import type { ApiClient } from './client';

/** Where a task's output lives: one run's output of a task, or the task's newest output. */
export interface TaskOutputRef {
  pipeline: string;
  task: string;
  runId: number | null;
}

/** A dataset's rows (REST ingest): the flushed Parquet, plus the rows still in its log when asked. */
export interface DatasetOutputRef {
  dataset: string;
  includeUnflushed: boolean;
}

/** What the grid shows: a task output or a dataset's rows (same query parameters, same answers). */
export type OutputRef = TaskOutputRef | DatasetOutputRef;

const seg = encodeURIComponent;

export const isDatasetRef = (src: OutputRef): src is DatasetOutputRef => 'dataset' in src;

export function outputPath(src: OutputRef): string {
  if (isDatasetRef(src)) return `/api/datasets/${seg(src.dataset)}/output`;
  return src.runId != null
    ? `/api/runs/${src.runId}/tasks/${seg(src.task)}/output`
    : `/api/pipelines/${seg(src.pipeline)}/tasks/${seg(src.task)}/output`;
}

/** Query parameters the source itself adds to every page request. */
export function sourceQuery(src: OutputRef): Record<string, string> {
  return isDatasetRef(src) ? { include_unflushed: String(src.includeUnflushed) } : {};
}

/** The column statistics route; null when the source has none (datasets). */
export function statsPath(src: OutputRef): string | null {
  if (isDatasetRef(src)) return null;
  return src.runId != null
    ? `/api/runs/${src.runId}/tasks/${seg(src.task)}/stats`
    : `/api/pipelines/${seg(src.pipeline)}/tasks/${seg(src.task)}/stats`;
}

/** Whether the source can be exported as a whole (task outputs have an export route; datasets do not). */
export const canExport = (src: OutputRef): boolean => !isDatasetRef(src);

/** A short name for the source: the task id, or the dataset name. */
export const sourceName = (src: OutputRef): string => (isDatasetRef(src) ? src.dataset : src.task);

/** A string that changes exactly when the source does (for memo keys). */
export function sourceKey(src: OutputRef): string {
  return isDatasetRef(src) ? `dataset|${src.dataset}|${src.includeUnflushed}` : `task|${src.pipeline}|${src.task}|${src.runId ?? ''}`;
}

/** Most rows the runner answers in one Arrow request. */
export const MAX_ARROW_ROWS = 500_000;

export interface ArrowRange {
  table: Table;
  /** Rows in the whole view (the `X-Total-Rows` header). */
  total: number;
  bytes: number;
}

/** Decodes an uncompressed Arrow IPC stream (or file). */
export function decodeArrow(bytes: Uint8Array): Table {
  return tableFromIPC(bytes);
}

/** Fetches rows [offset, offset+limit) of a view (`query` holds its sort/filter) as Arrow. */
export async function fetchArrowRange(
  client: ApiClient,
  src: OutputRef,
  query: Record<string, string>,
  offset: number,
  limit: number,
  signal?: AbortSignal,
): Promise<ArrowRange> {
  const res = await client.request(outputPath(src), {
    query: { ...sourceQuery(src), ...query, offset, limit: Math.min(limit, MAX_ARROW_ROWS), format: 'arrow' },
    signal,
  });
  const buf = new Uint8Array(await res.arrayBuffer());
  const table = decodeArrow(buf);
  const header = res.headers.get('X-Total-Rows');
  const total = header !== null && header !== '' ? Number(header) : Number.NaN;
  return { table, total: Number.isFinite(total) ? total : offset + table.numRows, bytes: buf.byteLength };
}

/** One page of rows: the Arrow vectors of a table slice plus lazily formatted cell text. */
export class ArrowPage {
  readonly rowCount: number;
  private readonly vectors: Vector[];
  private readonly texts: (string | null | undefined)[][];
  private readonly displays: (string | null | undefined)[][];

  constructor(
    table: Table,
    private readonly formats: readonly ColumnFormat[],
  ) {
    this.rowCount = table.numRows;
    this.vectors = formats.map((_, i) => table.getChildAt(i) as Vector);
    this.texts = formats.map(() => []);
    this.displays = formats.map(() => []);
  }

  /** The raw JS value (bigint, epoch ms, …) at a row of this page. */
  value(col: number, row: number): unknown {
    return this.vectors[col]?.get(row) ?? null;
  }

  /** Exact text of a cell; null for SQL NULL. Cached: a page is painted many times. */
  text(col: number, row: number): string | null {
    const cache = this.texts[col];
    if (!cache) return null;
    let t = cache[row];
    if (t === undefined) {
      t = this.formats[col]!.text(this.value(col, row));
      cache[row] = t;
    }
    return t;
  }

  /** Display text (may be shorter than `text`, e.g. long floats). */
  display(col: number, row: number): string | null {
    const cache = this.displays[col];
    if (!cache) return null;
    let t = cache[row];
    if (t === undefined) {
      t = this.formats[col]!.display(this.value(col, row));
      cache[row] = t;
    }
    return t;
  }
}

/** Formats for a table's columns, in order. */
export function formatsOf(table: Table): ColumnFormat[] {
  return table.schema.fields.map((f) => columnFormat(f.type));
}

/**
 * Cuts a fetched range that starts at page `firstPage` into pages of `pageSize` rows (zero-copy
 * slices). The last page may be short. Bytes are split in proportion to rows, for the LRU bound.
 */
export function splitPages(
  range: ArrowRange,
  firstPage: number,
  pageSize: number,
  formats: readonly ColumnFormat[],
): { page: number; data: ArrowPage; bytes: number }[] {
  const out: { page: number; data: ArrowPage; bytes: number }[] = [];
  const n = range.table.numRows;
  for (let start = 0, p = firstPage; start < n; start += pageSize, p++) {
    const end = Math.min(n, start + pageSize);
    out.push({
      page: p,
      data: new ArrowPage(range.table.slice(start, end), formats),
      bytes: Math.ceil((range.bytes * (end - start)) / Math.max(1, n)),
    });
  }
  return out;
}

/** Per-column statistics of a whole output (min/max as text; null when the column has none). */
export interface ColumnStats {
  name: string;
  type: string;
  null_count: number;
  min: string | null;
  max: string | null;
}

/** Column statistics of the whole output; none for sources without a stats route. */
export async function fetchStats(client: ApiClient, src: OutputRef, signal?: AbortSignal): Promise<ColumnStats[]> {
  const path = statsPath(src);
  return path === null ? [] : client.json<ColumnStats[]>(path, { signal });
}

export type ExportFormat = 'csv' | 'parquet';

/** The filename a Content-Disposition header proposes, if any. */
export function dispositionName(header: string | null): string | null {
  if (!header) return null;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall back to the plain form
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  return plain?.[1]?.trim() || null;
}

interface SaveFilePicker {
  (opts: { suggestedName?: string; types?: { description: string; accept: Record<string, string[]> }[] }): Promise<{
    createWritable(): Promise<WritableStream<Uint8Array>>;
  }>;
}

/**
 * Saves the whole view (sort + filter) as CSV or Parquet through the export route. Where the
 * browser has `showSaveFilePicker`, the file streams to disk (asked first: the picker needs the
 * click's user activation); else it downloads as a Blob. Resolves false when the user cancels.
 */
export async function exportView(
  client: ApiClient,
  src: OutputRef,
  query: Record<string, string>,
  format: ExportFormat,
): Promise<boolean> {
  if (!canExport(src)) throw new Error(`${sourceName(src)} cannot be exported from here`);
  const path = `${outputPath(src)}/export`;
  const suggestedName = `${sourceName(src)}.${format}`;
  const picker = (globalThis as { showSaveFilePicker?: SaveFilePicker }).showSaveFilePicker;
  if (picker) {
    let handle;
    try {
      handle = await picker({
        suggestedName,
        types: [{ description: format.toUpperCase(), accept: { [format === 'csv' ? 'text/csv' : 'application/vnd.apache.parquet']: [`.${format}`] } }],
      });
    } catch (e) {
      if ((e as { name?: string })?.name === 'AbortError') return false;
      throw e;
    }
    const res = await client.request(path, { query: { ...query, format } });
    if (!res.body) throw new Error('the runner sent no file');
    await res.body.pipeTo(await handle.createWritable());
    return true;
  }
  const res = await client.request(path, { query: { ...query, format } });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = dispositionName(res.headers.get('Content-Disposition')) ?? suggestedName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return true;
}
