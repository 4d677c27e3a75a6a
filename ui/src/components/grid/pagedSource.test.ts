import { Int64, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeArrow, type ArrowRange } from '../../api/arrowPages';
import { PagedSource, type LoadInfo } from './pagedSource';

const TOTAL = 10_000_000;

/** A fake runner: rows id = i, label = "row i" (null every 10th), with a log of requests and a manual release. */
function fakeRunner() {
  const calls: { offset: number; limit: number; signal: AbortSignal; resolve: () => void }[] = [];
  const fetchRange = (offset: number, limit: number, signal: AbortSignal) =>
    new Promise<ArrowRange>((resolve, reject) => {
      const n = Math.max(0, Math.min(limit, TOTAL - offset));
      const make = () => {
        const ids = Array.from({ length: n }, (_, i) => BigInt(offset + i));
        const t = new Table({
          id: vectorFromArray(ids, new Int64()),
          label: vectorFromArray(ids.map((v) => (v % 10n === 0n ? null : `row ${v}`)), new Utf8()),
        });
        const bytes = tableToIPC(t, 'stream');
        resolve({ table: decodeArrow(bytes), total: TOTAL, bytes: bytes.byteLength });
      };
      signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      calls.push({ offset, limit, signal, resolve: make });
    });
  const releaseAll = async () => {
    for (const c of calls.splice(0)) if (!c.signal.aborted) c.resolve();
    await vi.advanceTimersByTimeAsync(0);
  };
  return { calls, fetchRange, releaseAll };
}

describe('PagedSource', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function started(runner: ReturnType<typeof fakeRunner>, opts = {}) {
    const src = new PagedSource({ fetchRange: runner.fetchRange, pageSize: 1000, maxPages: 8, throttleMs: 40, ...opts });
    const p = src.start();
    await runner.releaseAll();
    await p;
    return src;
  }

  it('start() reads the schema, the total and the first page', async () => {
    const r = fakeRunner();
    const src = await started(r);
    expect(src.total).toBe(TOTAL);
    expect(src.names).toEqual(['id', 'label']);
    expect(src.formats.map((f) => f.label)).toEqual(['i64', 'str']);
    expect(src.text(0, 999)).toBe('999');
    expect(src.text(1, 10)).toBeNull();
    expect(src.text(1, 11)).toBe('row 11');
    expect(src.text(0, 1000)).toBeUndefined(); // not loaded: a Loading cell
  });

  it('jumping to the last rows fetches the last pages in one request and reports them', async () => {
    const r = fakeRunner();
    const src = await started(r);
    const loads: LoadInfo[] = [];
    src.onLoad((i) => loads.push(i));
    await vi.advanceTimersByTimeAsync(100);
    src.setVisible(TOTAL - 30, 30);
    expect(r.calls.map((c) => [c.offset, c.limit])).toEqual([[9_998_000, 2000]]);
    await r.releaseAll();
    expect(loads.map((l) => l.rows)).toEqual([[9_998_000, 10_000_000]]);
    expect(src.text(0, TOTAL - 1)).toBe('9999999');
    expect(src.text(1, TOTAL - 1)).toBe('row 9999999');
  });

  it('coalesces a fast scroll: one pass per throttle interval, for where the user is now', async () => {
    const r = fakeRunner();
    const src = await started(r);
    await vi.advanceTimersByTimeAsync(100);
    src.setVisible(50_000, 30); // leading edge: loads at once
    for (let row = 60_000; row < 5_000_000; row += 100_000) src.setVisible(row, 30); // all within 40 ms
    expect(r.calls.length).toBe(1);
    await vi.advanceTimersByTimeAsync(40); // trailing pass: the region at the end of the burst
    const offsets = r.calls.map((c) => c.offset);
    expect(offsets[0]).toBe(49_000);
    expect(offsets[offsets.length - 1]).toBe(4_959_000);
    // The first request is no longer needed: aborted.
    expect(r.calls[0]!.signal.aborted).toBe(true);
    await r.releaseAll();
    expect(src.text(0, 4_960_010)).toBe('4960010');
    expect(src.text(0, 50_000)).toBeUndefined();
  });

  it('keeps memory bounded by the LRU while scrolling through', async () => {
    const r = fakeRunner();
    const src = await started(r, { maxPages: 8 });
    for (let row = 0; row < 200_000; row += 5_000) {
      await vi.advanceTimersByTimeAsync(50);
      src.setVisible(row, 30);
      await r.releaseAll();
      expect(src.cachedPages).toBeLessThanOrEqual(8);
    }
    expect(src.text(0, 195_001)).toBe('195001');
  });

  it('rowsFor fetches missing rows for a copy without touching the cache', async () => {
    const r = fakeRunner();
    const src = await started(r);
    const p = src.rowsFor([
      [500, 1500],
      [9_000_000, 9_000_002],
    ]);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls.map((c) => [c.offset, c.limit])).toEqual([
      [1000, 1000],
      [9_000_000, 1000],
    ]);
    await r.releaseAll();
    const cell = await p;
    expect(cell(500, 0)).toBe('500');
    expect(cell(1499, 1)).toBe('row 1499');
    expect(cell(9_000_001, 0)).toBe('9000001');
    expect(src.cachedPages).toBe(1);
  });

  it('dispose() aborts what is in flight', async () => {
    const r = fakeRunner();
    const src = await started(r);
    await vi.advanceTimersByTimeAsync(100);
    src.setVisible(5_000_000, 30);
    expect(r.calls.length).toBe(1);
    src.dispose();
    expect(r.calls[0]!.signal.aborted).toBe(true);
    expect(src.pending).toBe(0);
  });
});
