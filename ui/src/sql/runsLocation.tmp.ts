import { describe, expect, it } from 'vitest';
import { errorLocation, findWord, locateSqlError, sqlChangedSince } from './sqlLocation';

const SQL = 'SELECT region,\n       SUM(amount) AS total,\n       COUNT(bogus_col) AS n\nFROM sales\n';

describe('locateSqlError', () => {
  it('reads DuckDB\'s LINE excerpt and caret (message as the engine records it)', () => {
    const msg =
      'SQL error (duckdb): Binder Error: Referenced column "bogus_col" not found in FROM clause!\nCandidate bindings: "amount"\n\n' +
      'LINE 3:        COUNT(bogus_col) AS n\n                     ^^^^^^^^^';
    const loc = locateSqlError(msg, SQL);
    expect(loc).toEqual({ line: 3, column: 14 });
    expect(SQL.split('\n')[2]!.slice(loc!.column - 1)).toMatch(/^bogus_col/);
  });

  it('finds a windowed DuckDB excerpt inside a long line', () => {
    const sql = `SELECT ${'x, '.repeat(40)}FORM t`;
    const msg = `Parser Error: syntax error at or near "t"\n\nLINE 1: ...x, x, x, FORM t\n${' '.repeat(25)}^`;
    const loc = locateSqlError(msg, sql)!;
    expect(loc.line).toBe(1);
    expect(sql.slice(loc.column - 1)).toBe('t');
  });

  it('reads sqlparser positions', () => {
    expect(locateSqlError('Expected: end of statement, found: FORM at Line: 2, Column: 7', 'SELECT 1\nFROM  FORM')).toEqual({
      line: 2,
      column: 7,
    });
  });

  it('finds a quoted unknown column (Polars) as a whole word', () => {
    const msg = 'SQL error (polars): not found: unable to find column "bogus_col"; valid columns: ["id", "region", "amount"]';
    expect(locateSqlError(msg, SQL)).toEqual({ line: 3, column: 14 });
    expect(findWord('SELECT ab, a FROM t', 'a')).toEqual({ line: 1, column: 12 });
  });

  it('gives nothing for unrelated messages or names not in the SQL', () => {
    expect(locateSqlError('out of memory', SQL)).toBeNull();
    expect(locateSqlError('column "nowhere" not found', SQL)).toBeNull();
  });
});

describe('errorLocation', () => {
  it('prefers the runner\'s location and falls back to the message', () => {
    expect(errorLocation({ line: 2, column: 8 }, 'unable to find column "bogus_col"', SQL)).toEqual({ line: 2, column: 8 });
    // A reported line beyond the SQL (it changed since) is not trusted.
    expect(errorLocation({ line: 40, column: 1 }, 'unable to find column "bogus_col"', SQL)).toEqual({ line: 3, column: 14 });
    expect(errorLocation(null, null, SQL)).toBeNull();
  });
});

describe('sqlChangedSince', () => {
  const duck = 'Binder Error: Referenced column "bogus_col" not found\n\nLINE 3:        COUNT(bogus_col) AS n\n                     ^';
  const polars = 'unable to find column "bogus_col"; valid columns: ["id", "region", "amount"]';
  it('is false while the SQL still has the quoted text', () => {
    expect(sqlChangedSince(duck, SQL)).toBe(false);
    expect(sqlChangedSince(polars, SQL)).toBe(false);
    expect(sqlChangedSince('out of memory', SQL)).toBe(false);
    expect(sqlChangedSince(null, SQL)).toBe(false);
  });
  it('is true once the quoted line or name is gone', () => {
    const fixed = SQL.replace('bogus_col', 'amount');
    expect(sqlChangedSince(duck, fixed)).toBe(true);
    expect(sqlChangedSince(polars, fixed)).toBe(true);
    expect(sqlChangedSince(duck, 'SELECT 1')).toBe(true);
  });
});
