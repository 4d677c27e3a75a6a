import { Float64, Int64, Table, tableFromArrays, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { canExport, decodeArrow, fetchArrowRange, fetchStats, formatsOf, outputPath, sourceKey, splitPages, statsPath } from './arrowPages';
import { ApiClient, type FetchFn } from './client';

function sample(n: number, start = 0): Table {
  return new Table({
    id: vectorFromArray(Array.from({ length: n }, (_, i) => BigInt(start + i)), new Int64()),
    label: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 4 ? null : `row ${start + i}`)), new Utf8()),
    ratio: vectorFromArray(Array.from({ length: n }, (_, i) => (start + i) / 7), new Float64()),
  });
}

describe('Arrow pages', () => {
  it('decodes IPC bytes and slices them into pages that read cells by column', () => {
    const bytes = tableToIPC(sample(2500), 'stream');
    const table = decodeArrow(bytes);
    expect(table.numRows).toBe(2500);
    const formats = formatsOf(table);
    expect(formats.map((f) => f.label)).toEqual(['i64', 'str', 'f64']);
    const pages = splitPages({ table, total: 10_000, bytes: bytes.byteLength }, 7, 1000, formats);
    expect(pages.map((p) => [p.page, p.data.rowCount])).toEqual([
      [7, 1000],
      [8, 1000],
      [9, 500],
    ]);
    expect(pages.reduce((n, p) => n + p.bytes, 0)).toBeGreaterThanOrEqual(bytes.byteLength);
    const p8 = pages[1]!.data;
    expect(p8.value(0, 0)).toBe(1000n);
    expect(p8.text(0, 0)).toBe('1000');
    expect(p8.text(1, 3)).toBe('row 1003');
    expect(p8.text(1, 4)).toBeNull(); // row 1004 is null
    expect(p8.text(2, 1)).toBe(String(1001 / 7));
    expect(p8.display(2, 1)).toBe('143');
    expect(pages[2]!.data.text(0, 499)).toBe('2499');
  });

  it('fetches a range with the view query, the Arrow format and the total from X-Total-Rows', async () => {
    const calls: string[] = [];
    const fetchFn: FetchFn = async (url, init) => {
      calls.push(url);
      expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer t');
      return new Response(new Blob([tableToIPC(sample(3, 9_999_997), 'stream') as Uint8Array<ArrayBuffer>]), { headers: { 'X-Total-Rows': '10000000' } });
    };
    const client = new ApiClient('http://runner', 't', fetchFn);
    const r = await fetchArrowRange(client, { pipeline: 'big', task: 'numbers', runId: null }, { sort: 'id:desc' }, 9_999_997, 1000);
    expect(calls[0]).toBe('http://runner/api/pipelines/big/tasks/numbers/output?sort=id%3Adesc&offset=9999997&limit=1000&format=arrow');
    expect(r.total).toBe(10_000_000);
    expect(r.table.numRows).toBe(3);
    expect(r.table.getChild('id')?.get(2)).toBe(9_999_999n);
  });

  it('names run outputs and newest outputs', () => {
    expect(outputPath({ pipeline: 'p', task: 'a b', runId: 4 })).toBe('/api/runs/4/tasks/a%20b/output');
    expect(statsPath({ pipeline: 'p', task: 't', runId: null })).toBe('/api/pipelines/p/tasks/t/stats');
  });

  it("reads a dataset's rows from its own route, with or without the rows not flushed yet, and has no stats or export", async () => {
    const calls: string[] = [];
    const client = new ApiClient('http://runner', 't', async (url) => {
      calls.push(url);
      return new Response(new Blob([tableToIPC(sample(3), 'stream') as Uint8Array<ArrayBuffer>]), { headers: { 'X-Total-Rows': '3' } });
    });
    const src = { dataset: 'events', includeUnflushed: true };
    await fetchArrowRange(client, src, { filter: 'id:gt:1' }, 0, 100);
    await fetchArrowRange(client, { ...src, includeUnflushed: false }, {}, 0, 100);
    expect(calls).toEqual([
      'http://runner/api/datasets/events/output?include_unflushed=true&filter=id%3Agt%3A1&offset=0&limit=100&format=arrow',
      'http://runner/api/datasets/events/output?include_unflushed=false&offset=0&limit=100&format=arrow',
    ]);
    expect(statsPath(src)).toBeNull();
    expect(await fetchStats(client, src)).toEqual([]);
    expect(calls).toHaveLength(2);
    expect(canExport(src)).toBe(false);
    expect(canExport({ pipeline: 'p', task: 't', runId: null })).toBe(true);
    expect(sourceKey(src)).not.toBe(sourceKey({ ...src, includeUnflushed: false }));
  });

  it('reads tables built from plain arrays too', () => {
    const t = decodeArrow(tableToIPC(tableFromArrays({ n: new Int32Array([1, 2]) }), 'stream'));
    expect(formatsOf(t)[0]!.label).toBe('i32');
  });
});

describe('export helpers', () => {
  it('reads the filename of a Content-Disposition header', async () => {
    const { dispositionName } = await import('./arrowPages');
    expect(dispositionName('attachment; filename="numbers.csv"')).toBe('numbers.csv');
    expect(dispositionName("attachment; filename*=UTF-8''caf%C3%A9.parquet")).toBe('café.parquet');
    expect(dispositionName('attachment')).toBeNull();
    expect(dispositionName(null)).toBeNull();
  });
});
