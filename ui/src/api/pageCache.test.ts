import { describe, expect, it } from 'vitest';
import { PageCache } from './pageCache';

const page = (p: number, size: number) => Array.from({ length: size }, (_, i) => p * size + i);

describe('PageCache', () => {
  it('maps rows to pages and returns cached rows', () => {
    const c = new PageCache<number>(10, 5);
    expect(c.pageOf(0)).toBe(0);
    expect(c.pageOf(9)).toBe(0);
    expect(c.pageOf(10)).toBe(1);
    expect(c.getRow(15)).toBeUndefined();
    c.setPage(1, page(1, 10));
    expect(c.getRow(15)).toBe(15);
    expect(c.getRow(10)).toBe(10);
    expect(c.getRow(25)).toBeUndefined();
  });

  it('evicts the least recently used page', () => {
    const c = new PageCache<number>(10, 3);
    c.setPage(0, page(0, 10));
    c.setPage(1, page(1, 10));
    c.setPage(2, page(2, 10));
    c.getRow(3); // touch page 0: page 1 is now oldest
    expect(c.setPage(3, page(3, 10))).toEqual([1]);
    expect(c.has(0)).toBe(true);
    expect(c.has(1)).toBe(false);
    expect(c.size).toBe(3);
    expect(c.setPage(4, page(4, 10))).toEqual([2]);
  });

  it('re-setting a page refreshes it without growing', () => {
    const c = new PageCache<number>(10, 2);
    c.setPage(0, page(0, 10));
    c.setPage(1, page(1, 10));
    c.setPage(0, page(0, 10));
    expect(c.setPage(2, page(2, 10))).toEqual([1]);
  });

  it('lists missing pages around the visible rows, nearest first, clamped to the total', () => {
    const c = new PageCache<number>(100, 10);
    expect(c.missingPages(0, 30, 1000)).toEqual([0, 1]);
    expect(c.missingPages(450, 30, 1000)).toEqual([4, 3, 5]);
    expect(c.missingPages(990, 30, 1000)).toEqual([9, 8]);
    expect(c.missingPages(0, 30, 50)).toEqual([0]);
    expect(c.missingPages(0, 30, 0)).toEqual([]);
    expect(c.missingPages(450, 130, 1000, 0)).toEqual([4, 5]);
  });

  it('skips cached and in-flight pages; clearInFlight re-enables a page', () => {
    const c = new PageCache<number>(100, 10);
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

  it('handles a short last page and clear()', () => {
    const c = new PageCache<number>(100, 10);
    c.setPage(2, [200, 201]);
    expect(c.getRow(201)).toBe(201);
    expect(c.getRow(202)).toBeUndefined();
    c.clear();
    expect(c.size).toBe(0);
  });

  it('rejects bad sizes', () => {
    expect(() => new PageCache(0, 1)).toThrow();
    expect(() => new PageCache(1, 0)).toThrow();
  });
});
