import { describe, expect, it } from 'vitest';
import { buildTsv, copyRegion, copyTooBig, regionCells, tsvField } from './tsv';

describe('copyRegion', () => {
  it('takes whole rows first, then whole columns, then the cell range', () => {
    expect(copyRegion({ rows: [[3, 5]], columns: [[0, 1]], range: { x: 0, y: 0, width: 1, height: 1 } }, 100, 3)).toEqual({
      rows: [[3, 5]],
      cols: [0, 1, 2],
    });
    expect(copyRegion({ rows: [], columns: [[1, 3]] }, 100, 3)).toEqual({ rows: [[0, 100]], cols: [1, 2] });
    expect(copyRegion({ rows: [], columns: [], range: { x: 1, y: 9, width: 2, height: 3 } }, 10, 3)).toEqual({
      rows: [[9, 10]],
      cols: [1, 2],
    });
    expect(copyRegion({ rows: [], columns: [] }, 10, 3)).toBeNull();
  });

  it('counts cells and refuses copies over the cap with a reason', () => {
    const col = copyRegion({ rows: [], columns: [[0, 1]] }, 10_000_000, 3)!;
    expect(regionCells(col)).toBe(10_000_000);
    expect(copyTooBig(col)).toBe('Selection too big to copy: 10,000,000 cells (at most 100,000). Export the view to CSV instead.');
    expect(copyTooBig({ rows: [[0, 50_000]], cols: [0, 1] })).toBeNull();
  });
});

describe('buildTsv', () => {
  it('quotes fields with tabs, newlines and quotes; NULL is empty', () => {
    expect(tsvField(null)).toBe('');
    expect(tsvField('plain')).toBe('plain');
    expect(tsvField('a\tb')).toBe('"a\tb"');
    expect(tsvField('say "hi"\n')).toBe('"say ""hi""\n"');
  });

  it('writes the region row by row, with an optional header', () => {
    const data = [
      ['1', 'a', null],
      ['2', 'b\tc', '9.5'],
      ['3', 'd', '7'],
    ];
    const cell = (r: number, c: number) => data[r]![c]!;
    expect(buildTsv({ rows: [[0, 2]], cols: [0, 1, 2] }, cell)).toBe('1\ta\t\n2\t"b\tc"\t9.5');
    expect(buildTsv({ rows: [[0, 1], [2, 3]], cols: [0, 2] }, cell, ['id', 'label', 'x'])).toBe('id\tx\n1\t\n3\t7');
  });
});
