/**
 * An LRU cache of fixed-size pages of one query (page p holds rows [p*pageSize, (p+1)*pageSize)),
 * bounded by a page count and by bytes. One cache per view (source + sort + filter): a new view
 * makes a new cache, so nothing stale survives. No I/O: the caller fetches pages and stores them.
 */
export class PageCache<P> {
  private readonly pages = new Map<number, { data: P; bytes: number }>(); // insertion order = recency
  private readonly inFlight = new Set<number>();
  private totalBytes = 0;

  constructor(
    readonly pageSize: number,
    readonly maxPages: number,
    readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    if (!(pageSize > 0) || !(maxPages > 0) || !(maxBytes > 0)) throw new Error('pageSize, maxPages and maxBytes must be > 0');
  }

  pageOf(row: number): number {
    return Math.floor(row / this.pageSize);
  }

  get size(): number {
    return this.pages.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  has(page: number): boolean {
    return this.pages.has(page);
  }

  /** The page, or undefined when not cached. Marks it recently used. */
  get(page: number): P | undefined {
    const e = this.pages.get(page);
    if (!e) return undefined;
    this.pages.delete(page);
    this.pages.set(page, e);
    return e.data;
  }

  /** The page without touching its recency (for painting the same page many times a frame). */
  peek(page: number): P | undefined {
    return this.pages.get(page)?.data;
  }

  /**
   * Stores a page (clears its in-flight mark) and evicts least recently used pages until both
   * bounds hold; the newest page always stays. Returns evicted indexes.
   */
  setPage(page: number, data: P, bytes = 0): number[] {
    this.inFlight.delete(page);
    const old = this.pages.get(page);
    if (old) {
      this.totalBytes -= old.bytes;
      this.pages.delete(page);
    }
    this.pages.set(page, { data, bytes });
    this.totalBytes += bytes;
    const evicted: number[] = [];
    while (this.pages.size > 1 && (this.pages.size > this.maxPages || this.totalBytes > this.maxBytes)) {
      const oldest = this.pages.keys().next().value as number;
      this.totalBytes -= this.pages.get(oldest)?.bytes ?? 0;
      this.pages.delete(oldest);
      evicted.push(oldest);
    }
    return evicted;
  }

  markInFlight(page: number): void {
    this.inFlight.add(page);
  }

  /** Clears an in-flight mark (e.g. the fetch failed or was aborted). */
  clearInFlight(page: number): void {
    this.inFlight.delete(page);
  }

  isInFlight(page: number): boolean {
    return this.inFlight.has(page);
  }

  /** The pages holding rows [firstRow, firstRow+rowCount) plus `margin` pages each side, clamped to totalRows. */
  wantedPages(firstRow: number, rowCount: number, totalRows: number, margin = 1): { from: number; to: number } | null {
    if (totalRows <= 0 || rowCount <= 0) return null;
    const lastPage = this.pageOf(totalRows - 1);
    const first = Math.min(lastPage, this.pageOf(Math.max(0, firstRow)));
    const from = Math.max(0, first - margin);
    const to = Math.min(lastPage, this.pageOf(Math.max(0, firstRow + rowCount - 1)) + margin);
    return { from, to };
  }

  /**
   * Wanted pages (see wantedPages) that are neither cached nor in flight, nearest to the first
   * visible page first.
   */
  missingPages(firstRow: number, rowCount: number, totalRows: number, margin = 1): number[] {
    const w = this.wantedPages(firstRow, rowCount, totalRows, margin);
    if (!w) return [];
    const visFrom = this.pageOf(Math.max(0, firstRow));
    const out: number[] = [];
    for (let p = w.from; p <= w.to; p++) {
      if (!this.pages.has(p) && !this.inFlight.has(p)) out.push(p);
    }
    return out.sort((a, b) => Math.abs(a - visFrom) - Math.abs(b - visFrom) || a - b);
  }

  clear(): void {
    this.pages.clear();
    this.inFlight.clear();
    this.totalBytes = 0;
  }
}

/** Groups page indexes into runs of consecutive pages (at most `maxRun` long), in the given order of first appearance. */
export function contiguousRuns(pages: readonly number[], maxRun: number): { first: number; count: number }[] {
  const sorted = [...new Set(pages)].sort((a, b) => a - b);
  const runs: { first: number; count: number }[] = [];
  for (const p of sorted) {
    const last = runs[runs.length - 1];
    if (last && last.first + last.count === p && last.count < maxRun) last.count++;
    else runs.push({ first: p, count: 1 });
  }
  // Keep the caller's priority: the run holding its first page goes first.
  const rank = (r: { first: number; count: number }) => {
    const i = pages.findIndex((p) => p >= r.first && p < r.first + r.count);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return runs.sort((a, b) => rank(a) - rank(b));
}
