/**
 * An LRU cache of fixed-size row pages, keyed by page index (page p holds rows
 * [p*pageSize, (p+1)*pageSize)). One cache per query (run/task); make a new one
 * when the query changes. No I/O: the caller fetches pages and stores them.
 */
export class PageCache<T> {
  private readonly pages = new Map<number, T[]>(); // insertion order = recency
  private readonly inFlight = new Set<number>();

  constructor(
    readonly pageSize: number,
    readonly maxPages: number,
  ) {
    if (!(pageSize > 0) || !(maxPages > 0)) throw new Error('pageSize and maxPages must be > 0');
  }

  pageOf(row: number): number {
    return Math.floor(row / this.pageSize);
  }

  get size(): number {
    return this.pages.size;
  }

  has(page: number): boolean {
    return this.pages.has(page);
  }

  /** The row, or undefined when its page is not cached. Marks the page recently used. */
  getRow(row: number): T | undefined {
    const p = this.pageOf(row);
    const page = this.pages.get(p);
    if (!page) return undefined;
    this.pages.delete(p);
    this.pages.set(p, page);
    return page[row - p * this.pageSize];
  }

  /** Stores a page (clears its in-flight mark) and evicts least recently used pages. Returns evicted indexes. */
  setPage(page: number, rows: T[]): number[] {
    this.inFlight.delete(page);
    this.pages.delete(page);
    this.pages.set(page, rows);
    const evicted: number[] = [];
    while (this.pages.size > this.maxPages) {
      const oldest = this.pages.keys().next().value as number;
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

  /**
   * Pages needed for rows [firstRow, firstRow+rowCount) plus `margin` pages each side,
   * clamped to totalRows, that are neither cached nor in flight; nearest-first order.
   */
  missingPages(firstRow: number, rowCount: number, totalRows: number, margin = 1): number[] {
    if (totalRows <= 0 || rowCount <= 0) return [];
    const lastPage = this.pageOf(totalRows - 1);
    const from = Math.max(0, this.pageOf(Math.max(0, firstRow)) - margin);
    const to = Math.min(lastPage, this.pageOf(Math.max(0, firstRow + rowCount - 1)) + margin);
    const visFrom = this.pageOf(Math.max(0, firstRow));
    const out: number[] = [];
    for (let p = from; p <= to; p++) {
      if (!this.pages.has(p) && !this.inFlight.has(p)) out.push(p);
    }
    return out.sort((a, b) => Math.abs(a - visFrom) - Math.abs(b - visFrom) || a - b);
  }

  clear(): void {
    this.pages.clear();
    this.inFlight.clear();
  }
}
