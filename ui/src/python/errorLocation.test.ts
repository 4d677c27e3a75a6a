import { describe, expect, it } from 'vitest';
import { locatePythonError, pythonChangedSince, tracebackLine } from './errorLocation';

const CODE = 'import polars as pl\n\n\ndef run(sales, params):\n    sales = sales.filter(pl.col("nope") > 6)\n    return sales\n';

describe('locatePythonError', () => {
  it("marks the runner's location: the word at its column, or the line's text for a line-only position", () => {
    // `nope` spans columns 34-37, its quotes 33 and 38; the line's text starts at 5 and ends at 44.
    expect(locatePythonError('x', CODE, { line: 5, column: 35 }, 'by_region.py')).toEqual({ line: 5, column: 34, endLine: 5, endColumn: 38 });
    expect(locatePythonError('x', CODE, { line: 5, column: 1 }, 'by_region.py')).toEqual({ line: 5, column: 5, endLine: 5, endColumn: 45 });
    expect(locatePythonError('x', CODE, { line: 5, column: 33 })).toEqual({ line: 5, column: 33, endLine: 5, endColumn: 39 });
  });

  it("finds the task file's line in the message without a location", () => {
    const msg = 'Python error in helpers.py, line 3: KeyError: \'total\'\nTraceback (your code, most recent call last):\n  File "by_region.py", line 6, in run\n    return sales\n  File "helpers.py", line 3, in scaled';
    expect(tracebackLine(msg, 'by_region.py')).toBe(6);
    expect(tracebackLine('Python error in by_region.py, line 4: NameError', 'sub/by_region.py')).toBe(4);
    expect(locatePythonError(msg, CODE, null, 'by_region.py')).toEqual({ line: 6, column: 5, endLine: 6, endColumn: 17 });
  });

  it('finds an unknown column the message quotes as a string literal in the code', () => {
    const lazy = 'Python error: while writing the returned frame: polars.exceptions.ColumnNotFoundError: unable to find column "nope"; valid columns: ["id", "amount"]';
    expect(locatePythonError(lazy, CODE, null, 'by_region.py')).toEqual({ line: 5, column: 33, endLine: 5, endColumn: 39 });
    expect(locatePythonError('something else', CODE, null, 'by_region.py')).toBeNull();
  });

  it('ignores a location outside the code', () => {
    expect(locatePythonError('no "quote" here', CODE, { line: 40, column: 1 }, 'x.py')).toBeNull();
  });
});

describe('pythonChangedSince', () => {
  const msg = 'Python error in by_region.py, line 6: TypeError\nTraceback (your code, most recent call last):\n  File "by_region.py", line 6, in run\n    return sales\n';
  it('is false while the quoted line is still there, true once it changed', () => {
    expect(pythonChangedSince(msg, CODE, 'by_region.py')).toBe(false);
    expect(pythonChangedSince(msg, CODE.replace('return sales', 'return sales.head()'), 'by_region.py')).toBe(true);
    expect(pythonChangedSince('no traceback', CODE, 'by_region.py')).toBe(false);
  });
});
