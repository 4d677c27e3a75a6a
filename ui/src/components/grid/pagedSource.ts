// The data behind the big grid: one view (source + sort + filter) of an output, paged over Arrow
// IPC into a bounded LRU. Not React: the grid asks it for cell text synchronously each frame and
// tells it which rows are visible; it fetches what is missing and reports rows that arrived.
import { splitPages, type ArrowPage, type ArrowRange, MAX_ARROW_ROWS } from '../../api/arrowPages';
import { contiguousRuns, PageCache } from '../../api/pageCache';
import type { ColumnFormat } from './arrowValues';
import { columnFormat } from './arrowValues';

export type FetchRange = (offset: number, limit: number, signal: AbortSignal) => Promise<ArrowRange>;

export interface PagedSourceOptions {
  fetchRange: FetchRange;
  /** Rows per page (one request fetches one or a few pages). */
  pageSize?: number;
  /** LRU bounds. */
  maxPages?: number;
  maxBytes?: number;
  /** Pages fetched beyond the visible ones, each side. */
  margin?: number;
  /** Most consecutive pages joined into one request. */
  maxRunPages?: number;
  maxInFlight?: number;
  /** Least time between two load passes while the user scrolls (coalesces fast scrolls). */
  throttleMs?: number;
}

export interface LoadInfo {
  /** Rows [first, end) that just became available. */
  rows: [number, number];
  /** Time the request took. */
  ms: number;
}

interface Request {
  first: number;
  count: number;
  ctrl: AbortController;
}

const isAbort = (e: unknown) => (e as { name?: string })?.name === 'AbortError';

export class PagedSource {
  readonly pageSize: number;
  private readonly cache: PageCache<ArrowPage>;
  private readonly margin: number;
  private readonly maxRunPages: number;
  private readonly maxInFlight: number;
  private readonly throttleMs: number;
  private readonly requests = new Set<Request>();
  private visible = { first: 0, count: 40 };
  private lastLoadAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;
  private readonly loadListeners = new Set<(info: LoadInfo) => void>();
  private readonly errorListeners = new Set<(e: unknown) => void>();

  /** Rows in the view; known after start(). */
  total = 0;
  names: string[] = [];
  formats: ColumnFormat[] = [];
  /** Time the first page took (the view's first paint). */
  firstMs = 0;

  constructor(private readonly opts: PagedSourceOptions) {
    this.pageSize = opts.pageSize ?? 1000;
    this.cache = new PageCache<ArrowPage>(this.pageSize, opts.maxPages ?? 64, opts.maxBytes ?? 64 * 1024 * 1024);
    this.margin = opts.margin ?? 1;
    this.maxRunPages = opts.maxRunPages ?? 3;
    this.maxInFlight = opts.maxInFlight ?? 3;
    this.throttleMs = opts.throttleMs ?? 40;
  }

  /** Loads the first page: schema, total rows. Rejects on errors (e.g. no output, bad filter). */
  async start(signal?: AbortSignal): Promise<void> {
    const ctrl = new AbortController();
    signal?.addEventListener('abort', () => ctrl.abort());
    const t0 = performance.now();
    const range = await this.opts.fetchRange(0, this.pageSize, ctrl.signal);
    this.firstMs = performance.now() - t0;
    this.total = range.total;
    this.names = range.table.schema.fields.map((f) => f.name);
    this.formats = range.table.schema.fields.map((f) => columnFormat(f.type));
    this.store(range, 0);
  }

  onLoad(fn: (info: LoadInfo) => void): () => void {
    this.loadListeners.add(fn);
    return () => this.loadListeners.delete(fn);
  }

  onError(fn: (e: unknown) => void): () => void {
    this.errorListeners.add(fn);
    return () => this.errorListeners.delete(fn);
  }

  get cachedPages(): number {
    return this.cache.size;
  }

  get cachedBytes(): number {
    return this.cache.bytes;
  }

  get pending(): number {
    return this.requests.size;
  }

  /** The page holding `row`, if cached (no recency update: called per cell per frame). */
  pageAt(row: number): ArrowPage | undefined {
    return this.cache.peek(Math.floor(row / this.pageSize));
  }

  /** Exact text of a cell: string, null for NULL, undefined while its page is not loaded. */
  text(col: number, row: number): string | null | undefined {
    const p = this.pageAt(row);
    return p ? p.text(col, row - Math.floor(row / this.pageSize) * this.pageSize) : undefined;
  }

  display(col: number, row: number): string | null | undefined {
    const p = this.pageAt(row);
    return p ? p.display(col, row - Math.floor(row / this.pageSize) * this.pageSize) : undefined;
  }

  /** The grid shows rows [first, first+count): fetch what they (and the margin) need, soon. */
  setVisible(first: number, count: number): void {
    this.visible = { first, count: Math.max(1, count) };
    if (this.timer !== null || this.disposed) return;
    const wait = this.throttleMs - (performance.now() - this.lastLoadAt);
    if (wait <= 0) this.load();
    else
      this.timer = setTimeout(() => {
        this.timer = null;
        this.load();
      }, wait);
  }

  /** One load pass: drop requests nobody needs any more, then fetch missing pages, nearest first. */
  load(): void {
    if (this.disposed || this.total <= 0) return;
    this.lastLoadAt = performance.now();
    const { first, count } = this.visible;
    const want = this.cache.wantedPages(first, count, this.total, this.margin);
    if (!want) return;
    for (let p = want.from; p <= want.to; p++) this.cache.get(p); // visible pages are the most recent
    for (const r of this.requests) {
      if (r.first + r.count - 1 < want.from || r.first > want.to) this.cancel(r);
    }
    const missing = this.cache.missingPages(first, count, this.total, this.margin);
    for (const run of contiguousRuns(missing, this.maxRunPages)) {
      if (this.requests.size >= this.maxInFlight) break;
      this.fetchRun(run.first, run.count);
    }
  }

  private cancel(r: Request): void {
    r.ctrl.abort();
    this.requests.delete(r);
    for (let p = r.first; p < r.first + r.count; p++) this.cache.clearInFlight(p);
  }

  private fetchRun(first: number, count: number): void {
    const r: Request = { first, count, ctrl: new AbortController() };
    this.requests.add(r);
    for (let p = first; p < first + count; p++) this.cache.markInFlight(p);
    const t0 = performance.now();
    this.opts
      .fetchRange(first * this.pageSize, count * this.pageSize, r.ctrl.signal)
      .then((range) => {
        if (r.ctrl.signal.aborted || this.disposed) return;
        this.requests.delete(r);
        this.store(range, first);
        const end = Math.min(this.total, (first + count) * this.pageSize);
        for (const fn of this.loadListeners) fn({ rows: [first * this.pageSize, end], ms: performance.now() - t0 });
        this.load(); // pages skipped for the in-flight cap, or the user moved meanwhile
      })
      .catch((e: unknown) => {
        if (this.requests.has(r)) this.cancel(r);
        if (isAbort(e) || this.disposed) return;
        for (const fn of this.errorListeners) fn(e);
      });
  }

  private store(range: ArrowRange, firstPage: number): void {
    for (const p of splitPages(range, firstPage, this.pageSize, this.formats)) this.cache.setPage(p.page, p.data, p.bytes);
  }

  /**
   * Cell text for rows that may not be cached (copy): cached pages are held on to as they are now,
   * missing row ranges are fetched in big requests and kept aside (not in the LRU, so a big copy
   * does not evict what is on screen, and scrolling meanwhile cannot evict what the copy needs).
   */
  async rowsFor(ranges: readonly [number, number][], signal?: AbortSignal): Promise<(row: number, col: number) => string | null> {
    const extra = new Map<number, ArrowPage>();
    const need: number[] = [];
    for (const [a, b] of ranges) {
      if (b <= a) continue;
      for (let p = Math.floor(a / this.pageSize); p <= Math.floor((b - 1) / this.pageSize); p++) {
        const cached = this.cache.peek(p);
        if (cached) extra.set(p, cached);
        else need.push(p);
      }
    }
    const maxRun = Math.max(1, Math.floor(MAX_ARROW_ROWS / this.pageSize));
    const runs = contiguousRuns(need, maxRun);
    const ctrl = new AbortController();
    signal?.addEventListener('abort', () => ctrl.abort());
    // A few requests at a time: scattered row selections can make many small runs.
    const worker = async () => {
      for (let run = runs.shift(); run; run = runs.shift()) {
        const range = await this.opts.fetchRange(run.first * this.pageSize, run.count * this.pageSize, ctrl.signal);
        for (const p of splitPages(range, run.first, this.pageSize, this.formats)) extra.set(p.page, p.data);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.maxInFlight, runs.length) }, worker));
    } catch (e) {
      ctrl.abort();
      throw e;
    }
    return (row, col) => {
      const pi = Math.floor(row / this.pageSize);
      const page = extra.get(pi);
      return page ? page.text(col, row - pi * this.pageSize) : null;
    };
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    for (const r of [...this.requests]) this.cancel(r);
    this.cache.clear();
    this.loadListeners.clear();
    this.errorListeners.clear();
  }
}
