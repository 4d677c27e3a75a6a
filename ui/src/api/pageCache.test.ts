import { describe, expect, it } from 'vitest';
import { contiguousRuns, PageCache } from './pageCache';

const page = (p: number, size: number) => Array.from({ length: size }, (_, i) => p * size + i);

describe('PageCache', () => {
  it('maps rows to pages and returns cached pages', () => {
    const c = new PageCache<number[]>(10, 5);
    expect(c.pageOf(0)).toBe(0);
    expect(c.pageOf(9)).toBe(0);
    expect(c.pageOf(10)).toBe(1);
    expect(c.get(1)).toBeUndefined();
    c.setPage(1, page(1, 10));
    expect(c.get(1)?.[5]).toBe(15);
    expect(c.peek(1)?.[0]).toBe(10);
    expect(c.get(2)).toBeUndefined();
  });

  it('evicts the least recently used page; peek does not refresh', () => {
    const c = new PageCache<number[]>(10, 3);
    c.setPage(0, page(0, 10));
    c.setPage(1, page(1, 10));
    c.setPage(2, page(2, 10));
    c.get(0); // page 1 is now the oldest
    c.peek(1);
    expect(c.setPage(3, page(3, 10))).toEqual([1]);
    expect(c.has(0)).toBe(true);
    expect(c.has(1)).toBe(false);
    expect(c.size).toBe(3);
    expect(c.setPage(4, page(4, 10))).toEqual([2]);
  });

  it('bounds the bytes held, keeping at least the newest page', () => {
    const c = new PageCache<string>(10, 100, 1000);
    c.setPage(0, 'a', 400);
    c.setPage(1, 'b', 400);
    expect(c.bytes).toBe(800);
    expect(c.setPage(2, 'c', 400)).toEqual([0]);
    expect(c.bytes).toBe(800);
    expect(c.setPage(3, 'd', 5000)).toEqual([1, 2]);
    expect(c.size).toBe(1);
    expect(c.bytes).toBe(5000);
    c.setPage(3, 'd2', 10); // re-setting replaces the weight
    expect(c.bytes).toBe(10);
  });

  it('re-setting a page refreshes it without growing', () => {
    const c = new PageCache<number[]>(10, 2);
    c.setPage(0, page(0, 10));
    c.setPage(1, page(1, 10));
    c.setPage(0, page(0, 10));
    expect(c.setPage(2, page(2, 10))).toEqual([1]);
  });

  it('lists missing pages around the visible rows, nearest first, clamped to the total', () => {
    const c = new PageCache<number[]>(100, 10);
    expect(c.missingPages(0, 30, 1000)).toEqual([0, 1]);
    expect(c.missingPages(450, 30, 1000)).toEqual([4, 3, 5]);
    expect(c.missingPages(990, 30, 1000)).toEqual([9, 8]);
    expect(c.missingPages(0, 30, 50)).toEqual([0]);
    expect(c.missingPages(0, 30, 0)).toEqual([]);
    expect(c.missingPages(450, 130, 1000, 0)).toEqual([4, 5]);
    // A visible region past the end (a view that shrank) still asks for the last page.
    expect(c.missingPages(5000, 30, 1000, 0)).toEqual([9]);
    expect(c.wantedPages(9_999_990, 30, 10_000_000, 1)).toEqual({ from: 99998, to: 99999 });
  });

  it('skips cached and in-flight pages; clearInFlight re-enables a page', () => {
    const c = new PageCache<number[]>(100, 10);
    c.setPage(4, page(4, 100));
    c.markInFlight(5);
    expect(c.isInFlight(5)).toBe(true);
    expect(c.missingPages(450, 30, 1000)).toEqual([3]);
    c.clearInFlight(5);
    expect(c.missingPages(450, 30, 1000)).toEqual([3, 5]);
    c.markInFlight(3);
    c.setPage(3, page(3, 100));
    expect(c.isInFlight(3)).toBe(false);
  });

  it('clear() empties pages, marks and bytes', () => {
    const c = new PageCache<number[]>(100, 10);
    c.setPage(2, [200, 201], 64);
    c.markInFlight(3);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.bytes).toBe(0);
    expect(c.isInFlight(3)).toBe(false);
  });

  it('rejects bad sizes', () => {
    expect(() => new PageCache(0, 1)).toThrow();
    expect(() => new PageCache(1, 0)).toThrow();
    expect(() => new PageCache(1, 1, 0)).toThrow();
  });
});

describe('contiguousRuns', () => {
  it('joins consecutive pages into capped runs, keeping the caller priority', () => {
    expect(contiguousRuns([4, 3, 5], 4)).toEqual([{ first: 3, count: 3 }]);
    expect(contiguousRuns([9, 1, 2, 8], 4)).toEqual([
      { first: 8, count: 2 },
      { first: 1, count: 2 },
    ]);
    expect(contiguousRuns([0, 1, 2, 3, 4], 2)).toEqual([
      { first: 0, count: 2 },
      { first: 2, count: 2 },
      { first: 4, count: 1 },
    ]);
    expect(contiguousRuns([], 3)).toEqual([]);
  });
});
