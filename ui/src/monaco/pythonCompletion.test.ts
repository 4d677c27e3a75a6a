import { describe, expect, it } from 'vitest';
import { completePython, framesRead, pyString, pythonSpot } from './pythonCompletion';
import type { CompletionContext } from './sqlCompletion';

const ctx: CompletionContext = {
  tables: ['sales', 'regions', 'report'],
  columns: {
    sales: [
      { name: 'id', type: 'i64' },
      { name: 'amount', type: 'f64' },
    ],
    regions: [{ name: 'region', type: 'str' }],
    report: [{ name: 'total', type: 'f64' }],
  },
  defaultTables: ['regions'],
};

/** Completes at the `|` in `text`. */
function at(text: string, c: CompletionContext = ctx) {
  const offset = text.indexOf('|');
  return completePython(text.replace('|', ''), offset, c);
}
const spot = (text: string) => pythonSpot(text.replace('|', ''), text.indexOf('|'));
const labels = (r: ReturnType<typeof at>, kind?: string) => r.suggestions.filter((s) => !kind || s.kind === kind).map((s) => s.label);

const DEF = 'import polars as pl\n\ndef run(sales, params):\n    return sales.filter(';

describe('pythonSpot', () => {
  it('finds the string argument of pl.col(…), with either quote, after earlier arguments, or closed by the editor', () => {
    expect(spot('pl.col("am|')).toEqual({ kind: 'col-string', from: 8 });
    expect(spot("pl.col('am|')")).toEqual({ kind: 'col-string', from: 8 });
    expect(spot('polars.col( "id", "|")')).toEqual({ kind: 'col-string', from: 19 });
    expect(spot('col("|")')).toEqual({ kind: 'col-string', from: 5 });
  });

  it('tells other strings, comments and calls from pl.col(', () => {
    expect(spot('x.col("a|")').kind).toBe('none');
    expect(spot('print("a|")').kind).toBe('none');
    expect(spot('# pl.col("a|').kind).toBe('none');
    expect(spot('pl.col("a") |').kind).toBe('code');
    expect(spot('pl.col("a"|)').kind).toBe('none');
    expect(spot('pl.col(|)')).toEqual({ kind: 'col-open', from: 7 });
    expect(spot('print(|)').kind).toBe('none');
    expect(spot('def run(|').kind).toBe('code');
    expect(spot('x = sal|')).toEqual({ kind: 'code', from: 4 });
  });
});

describe('framesRead', () => {
  it('is the parameters naming tasks, in order, then the saved upstreams', () => {
    expect(framesRead('def run(report, params, sales):\n  pass', ctx)).toEqual(['report', 'sales', 'regions']);
  });
});

describe('completePython', () => {
  it('inside pl.col("…") offers the columns of the frames read, unquoted, replacing the typed text', () => {
    const r = at(`${DEF}pl.col("am|")`);
    expect(r.from).toBe(`${DEF}pl.col("`.length);
    expect(labels(r)).toEqual(['id', 'amount', 'region']);
    expect(r.suggestions[1]).toMatchObject({ kind: 'column', detail: 'f64 · sales', insertText: 'amount' });
  });

  it('right after pl.col( offers the columns quoted', () => {
    const r = at(`${DEF}pl.col(|)`);
    expect(r.suggestions.find((s) => s.label === 'amount')?.insertText).toBe('"amount"');
    expect(pyString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('in code offers the tasks, then the names the code uses; nothing in comments or other strings', () => {
    const r = at('import polars as pl\n\ndef run(sales):\n    out = sales\n    return o|');
    expect(labels(r, 'table')).toEqual(['sales', 'regions', 'report']);
    expect(labels(r, 'word')).toEqual(['polars', 'pl', 'run', 'out']);
    const rank = (k: string) => r.suggestions.find((s) => s.kind === k)!.sortText;
    expect(rank('table') < rank('word')).toBe(true);
    expect(at('x = 1  # sal|').suggestions).toEqual([]);
    expect(at('print("sal|")').suggestions).toEqual([]);
  });
});
