import { describe, expect, it } from 'vitest';
import { markColumn, sqlLines } from './sqlHighlight';

describe('sqlLines', () => {
  it('colours keywords, identifiers, strings, numbers, params and comments', () => {
    const sql = "SELECT a, \"Odd\" AS s, 'it''s' -- note\nFROM t WHERE n >= {{ min }} AND x = 1.5e3 /* c */";
    const toks = sqlLines(sql).flat();
    const kinds = Object.fromEntries(toks.filter((t) => t.kind !== 'space' && t.kind !== 'punct').map((t) => [t.text, t.kind]));
    expect(kinds).toEqual({
      SELECT: 'keyword',
      a: 'ident',
      '"Odd"': 'ident',
      AS: 'keyword',
      s: 'ident',
      "'it''s'": 'string',
      '-- note': 'comment',
      FROM: 'keyword',
      t: 'ident',
      WHERE: 'keyword',
      n: 'ident',
      '{{ min }}': 'param',
      AND: 'keyword',
      x: 'ident',
      '1.5e3': 'number',
      '/* c */': 'comment',
    });
  });
});

describe('sqlLines / markColumn', () => {
  it('splits multi-line tokens at newlines', () => {
    const lines = sqlLines('SELECT 1 /* a\nb */ FROM t\r\nWHERE x');
    expect(lines).toHaveLength(3);
    expect(lines[1]!.map((t) => t.text)).toEqual(['b */', ' ', 'FROM', ' ', 't']);
    expect(lines[1]![0]!.kind).toBe('comment');
  });

  it('marks the token at a column, skipping to the next word from whitespace', () => {
    const [line] = sqlLines('  COUNT(bogus_col) AS n');
    const marked = (col: number) => markColumn(line!, col).find((t) => t.error)?.text;
    expect(marked(9)).toBe('bogus_col');
    expect(marked(12)).toBe('bogus_col');
    expect(marked(1)).toBe('COUNT');
    expect(marked(99)).toBeUndefined();
  });
});
