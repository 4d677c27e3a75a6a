import { describe, expect, it } from 'vitest';
import { findIdent, locateSqlError, offsetToPosition, sqlChangedSince } from './errorLocation';

// Messages below are copied from the runner's preview route (DuckDB 1.x and Polars SQL).
describe('locateSqlError', () => {
  it('uses the location the runner sends, widened to the identifier there', () => {
    const sql = 'SELECT 1,\n  nme\nFROM customers';
    expect(locateSqlError('whatever', sql, { line: 2, column: 3 })).toEqual({ line: 2, column: 3, endLine: 2, endColumn: 6 });
    // Pointing inside a word still marks the whole word.
    expect(locateSqlError('whatever', sql, { line: 2, column: 4 })).toEqual({ line: 2, column: 3, endLine: 2, endColumn: 6 });
  });

  it('ignores a location outside the SQL and reads the message instead', () => {
    const sql = 'SELECT *\nFROM custmers';
    const msg = 'Catalog Error: Table with name custmers does not exist!';
    expect(locateSqlError(msg, sql, { line: 9, column: 1 })).toEqual({ line: 2, column: 6, endLine: 2, endColumn: 14 });
  });

  it("reads DuckDB's LINE excerpt and caret on a later line (wrapper text after the query)", () => {
    const sql = 'SELECT 1,\n  nme\nFROM customers';
    const msg =
      'SQL error (duckdb) in models/order_totals.sql: Binder Error: Referenced column "nme" not found in FROM clause!\nCandidate bindings: "name", "customer_id"\n\nLINE 2:   nme\n          ^^^';
    expect(locateSqlError(msg, sql)).toEqual({ line: 2, column: 3, endLine: 2, endColumn: 6 });
  });

  it('subtracts the wrapper the engine put before the first line (over a wrong runner column)', () => {
    const sql = 'SELECT c.nme\nFROM customers AS c';
    const msg =
      'SQL error (duckdb) in models/order_totals.sql: Binder Error: Values list "c" does not have a column named "nme"\n\nLINE 1: COPY (SELECT * FROM (SELECT c.nme\n                                    ^^^^^';
    expect(locateSqlError(msg, sql)).toEqual({ line: 1, column: 8, endLine: 1, endColumn: 13 });
    expect(locateSqlError(msg, sql, { line: 1, column: 13 })).toEqual({ line: 1, column: 8, endLine: 1, endColumn: 13 });
  });

  it('handles windowed excerpts and a wrapper after the line', () => {
    const sql = 'SELECT *\nFROM custmers';
    const msg =
      "Catalog Error: Table with name custmers does not exist!\nDid you mean \"customers\"?\n\nLINE 2: FROM custmers) LIMIT 10) TO '/tmp/nbprobe/.polder/previews/.orde...\n             ^^^^^^^^";
    expect(locateSqlError(msg, sql)).toEqual({ line: 2, column: 6, endLine: 2, endColumn: 14 });
    const long = `SELECT ${'x, '.repeat(40)}FORM t`;
    const win = `Parser Error: syntax error at or near "t"\n\nLINE 1: ...x, x, x, FORM t\n${' '.repeat(25)}^`;
    const r = locateSqlError(win, long)!;
    expect(long.slice(r.column - 1, r.endColumn - 1)).toBe('t');
  });

  it('marks the last character when DuckDB points past the end of the line', () => {
    const sql = 'SELECT *\nFROM customers WHERE';
    const msg =
      'Parser Error: syntax error at or near ")"\n\nLINE 2: FROM customers WHERE) LIMIT 10) TO \'/tmp/x\'\n                            ^';
    expect(locateSqlError(msg, sql)).toEqual({ line: 2, column: 20, endLine: 2, endColumn: 21 });
  });

  it("reads sqlparser's Line/Column", () => {
    const msg = 'sql parser error: Expected: end of statement, found: FORM at Line: 2, Column: 7';
    expect(locateSqlError(msg, 'SELECT 1\nFROM  FORM')).toEqual({ line: 2, column: 7, endLine: 2, endColumn: 11 });
  });

  it('finds a quoted unknown column, preferring the name after a cue word, skipping comments', () => {
    const sql = '-- nme is a typo\nSELECT c.name,\n       c.nme\nFROM customers c';
    expect(locateSqlError('SQL error (polars): no column named \'nme\' found in table \'c\'', sql)).toEqual({
      line: 3,
      column: 10,
      endLine: 3,
      endColumn: 13,
    });
    const polars = 'SQL error (polars): not found: unable to find column "nme"; valid columns: ["customer_id", "name", "city"]\n\nDid you mean "name"?';
    expect(locateSqlError(polars, sql)).toMatchObject({ line: 3, column: 10 });
    expect(locateSqlError("SQL error (polars): relation 'custmers' was not found", 'SELECT *\nFROM custmers')).toMatchObject({ line: 2, column: 6, endColumn: 14 });
  });

  it('returns null when nothing points into the SQL', () => {
    expect(locateSqlError('out of memory', 'SELECT 1')).toBeNull();
    expect(locateSqlError('column "nowhere" not found', 'SELECT 1')).toBeNull();
    expect(locateSqlError(null, 'SELECT 1')).toBeNull();
  });
});

// The runs view's cases: a failed run's stored message against the task's current SQL.
const SQL = 'SELECT region,\n       SUM(amount) AS total,\n       COUNT(bogus_col) AS n\nFROM sales\n';

describe('locateSqlError on stored run messages', () => {
  it("reads DuckDB's LINE excerpt and caret (message as the engine records it)", () => {
    const msg =
      'SQL error (duckdb): Binder Error: Referenced column "bogus_col" not found in FROM clause!\nCandidate bindings: "amount"\n\n' +
      'LINE 3:        COUNT(bogus_col) AS n\n                     ^^^^^^^^^';
    const r = locateSqlError(msg, SQL);
    expect(r).toEqual({ line: 3, column: 14, endLine: 3, endColumn: 23 });
    expect(SQL.split('\n')[2]!.slice(r!.column - 1, r!.endColumn - 1)).toBe('bogus_col');
  });

  it('finds a quoted unknown column (Polars) as a whole word', () => {
    const msg = 'SQL error (polars): not found: unable to find column "bogus_col"; valid columns: ["id", "region", "amount"]';
    expect(locateSqlError(msg, SQL)).toEqual({ line: 3, column: 14, endLine: 3, endColumn: 23 });
  });

  it("prefers the runner's location to the message's quoted name, and distrusts one beyond the SQL", () => {
    expect(locateSqlError('unable to find column "bogus_col"', SQL, { line: 2, column: 8 })).toEqual({ line: 2, column: 8, endLine: 2, endColumn: 11 });
    // A reported line beyond the SQL (it changed since) is not trusted.
    expect(locateSqlError('unable to find column "bogus_col"', SQL, { line: 40, column: 1 })).toMatchObject({ line: 3, column: 14 });
    expect(locateSqlError(null, SQL, null)).toBeNull();
  });
});

describe('findIdent', () => {
  it('finds a name as a whole identifier, case-insensitively, not in comments or strings', () => {
    expect(findIdent('SELECT ab, a FROM t', 'a')).toEqual({ line: 1, column: 12, endLine: 1, endColumn: 13 });
    expect(findIdent("-- nme\nSELECT 'nme', NME FROM t", 'nme')).toEqual({ line: 2, column: 15, endLine: 2, endColumn: 18 });
    expect(findIdent('SELECT "Odd Name" FROM t', 'odd name')).toMatchObject({ line: 1, column: 8, endColumn: 18 });
    expect(findIdent('SELECT abc FROM t', 'b')).toBeNull();
  });
});

describe('sqlChangedSince', () => {
  const duck = 'Binder Error: Referenced column "bogus_col" not found\n\nLINE 3:        COUNT(bogus_col) AS n\n                     ^';
  const polars = 'unable to find column "bogus_col"; valid columns: ["id", "region", "amount"]';
  it('is false while the SQL still has the quoted text', () => {
    expect(sqlChangedSince(duck, SQL)).toBe(false);
    expect(sqlChangedSince(polars, SQL)).toBe(false);
    expect(sqlChangedSince('out of memory', SQL)).toBe(false);
    expect(sqlChangedSince('Expected: end of statement, found: FORM at Line: 2, Column: 7', SQL)).toBe(false);
    expect(sqlChangedSince(null, SQL)).toBe(false);
  });
  it('is true once the quoted line or name is gone', () => {
    const fixed = SQL.replace('bogus_col', 'amount');
    expect(sqlChangedSince(duck, fixed)).toBe(true);
    expect(sqlChangedSince(polars, fixed)).toBe(true);
    expect(sqlChangedSince(duck, 'SELECT 1')).toBe(true);
  });
  it("sees the line inside older runners' wrapper text, before or after it", () => {
    const first = 'Binder Error: column named "nme"\n\nLINE 1: COPY (SELECT * FROM (SELECT c.nme\n                                    ^^^^^';
    expect(sqlChangedSince(first, 'SELECT c.nme\nFROM customers AS c')).toBe(false);
    expect(sqlChangedSince(first, 'SELECT c.name\nFROM customers AS c')).toBe(true);
    const last = "Catalog Error: Table with name custmers does not exist!\n\nLINE 2: FROM custmers) LIMIT 10) TO '/tmp/x.parquet'\n             ^";
    expect(sqlChangedSince(last, 'SELECT *\nFROM custmers')).toBe(false);
    expect(sqlChangedSince(last, 'SELECT *\nFROM customers')).toBe(true);
  });
});

describe('offsetToPosition', () => {
  it('counts lines and columns from 1', () => {
    expect(offsetToPosition('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(offsetToPosition('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
