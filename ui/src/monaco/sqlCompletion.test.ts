import { describe, expect, it } from 'vitest';
import { completeSql, quoteIdent, tableRefs, type CompletionContext } from './sqlCompletion';
import { lexSql } from '../sql/tokens';

const ctx: CompletionContext = {
  tables: ['customers', 'orders', 'order_totals'],
  columns: {
    customers: [
      { name: 'customer_id', type: 'i64' },
      { name: 'name', type: 'str' },
      { name: 'city', type: 'str' },
    ],
    orders: [
      { name: 'order_id', type: 'i64' },
      { name: 'customer_id', type: 'i64' },
      { name: 'amount', type: 'f64' },
    ],
    order_totals: [{ name: 'total', type: 'f64' }],
  },
};

/** Completes at the `|` in `text`. */
function at(text: string, c: CompletionContext = ctx) {
  const offset = text.indexOf('|');
  return completeSql(text.replace('|', ''), offset, c);
}
const labels = (r: ReturnType<typeof at>, kind?: string) =>
  r.suggestions.filter((s) => !kind || s.kind === kind).map((s) => s.label);

describe('tableRefs', () => {
  it('reads tables and aliases from FROM lists and joins', () => {
    const sql = 'SELECT * FROM customers AS c, orders o JOIN order_totals ON true LEFT JOIN x.y z WHERE 1';
    expect(tableRefs(lexSql(sql).tokens)).toEqual([
      { table: 'customers', alias: 'c' },
      { table: 'orders', alias: 'o' },
      { table: 'order_totals', alias: null },
      { table: 'y', alias: 'z' },
    ]);
  });

  it('skips table functions, subqueries and CTE names', () => {
    const sql = "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent r JOIN read_csv('x.csv') f ON 1 JOIN (SELECT 1) s ON 1";
    expect(tableRefs(lexSql(sql).tokens)).toEqual([{ table: 'orders', alias: null }]);
  });

  it('reads quoted names', () => {
    expect(tableRefs(lexSql('SELECT 1 FROM "Orders" AS "O"').tokens)).toEqual([{ table: 'Orders', alias: 'O' }]);
  });
});

describe('completeSql', () => {
  it("after `alias.` offers only that table's columns, replacing the typed prefix", () => {
    const r = at('SELECT c.na| FROM customers AS c JOIN orders AS o USING (customer_id)');
    expect(r.from).toBe('SELECT c.'.length);
    expect(labels(r)).toEqual(['customer_id', 'name', 'city']);
    expect(r.suggestions[1]).toMatchObject({ kind: 'column', detail: 'str · customers', insertText: 'name' });
  });

  it('after `table.` offers its columns even without an alias', () => {
    expect(labels(at('SELECT orders.| FROM orders'))).toEqual(['order_id', 'customer_id', 'amount']);
  });

  it('offers nothing after an unknown qualifier', () => {
    expect(at('SELECT zz.| FROM orders').suggestions).toEqual([]);
  });

  it('offers the referenced tables columns first (merged by name), then tables and keywords', () => {
    const r = at('SELECT | FROM customers c JOIN orders o ON o.customer_id = c.customer_id');
    expect(labels(r, 'column')).toEqual(['customer_id', 'name', 'city', 'order_id', 'amount']);
    const id = r.suggestions.find((s) => s.label === 'customer_id')!;
    expect(id.detail).toBe('i64 · customers, orders');
    expect(labels(r, 'table')).toEqual(['customers', 'orders', 'order_totals']);
    expect(labels(r, 'keyword')).toContain('GROUP BY');
    const rank = (k: string) => r.suggestions.find((s) => s.kind === k)!.sortText;
    expect(rank('column') < rank('table') && rank('table') < rank('keyword')).toBe(true);
  });

  it('offers task names after FROM, JOIN and commas of a FROM list, not columns', () => {
    expect(labels(at('SELECT * FROM ord|'), 'table')).toEqual(['customers', 'orders', 'order_totals']);
    expect(labels(at('SELECT * FROM ord|'), 'column')).toEqual([]);
    expect(labels(at('SELECT * FROM orders o JOIN |'), 'column')).toEqual([]);
    expect(labels(at('SELECT * FROM orders o, |'), 'column')).toEqual([]);
    // A comma in the SELECT list is an expression position.
    expect(labels(at('SELECT amount, | FROM orders'), 'column')).toEqual(['order_id', 'customer_id', 'amount']);
  });

  it("falls back to the cell's upstreams before the query names a table", () => {
    const r = at('SELECT |', { ...ctx, defaultTables: ['order_totals'] });
    expect(labels(r, 'column')).toEqual(['total']);
  });

  it('offers nothing inside comments and strings', () => {
    expect(at('-- pick a c|\nSELECT 1 FROM orders').suggestions).toEqual([]);
    expect(at("SELECT 'abc|' FROM orders").suggestions).toEqual([]);
    expect(at("SELECT 'abc' |FROM orders").suggestions.length).toBeGreaterThan(0);
  });

  it('quotes names that are not plain identifiers', () => {
    expect(quoteIdent('total')).toBe('total');
    expect(quoteIdent('unit price')).toBe('"unit price"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    const r = at('SELECT | FROM t', { tables: ['t'], columns: { t: [{ name: 'unit price', type: 'f64' }] } });
    expect(r.suggestions[0]).toMatchObject({ label: 'unit price', insertText: '"unit price"' });
  });
});
