import { describe, expect, it } from 'vitest';
import { identName, lexSql, tokenizeSql } from './tokens';

describe('tokenizeSql', () => {
  it('gives every lexical class with offsets, losslessly', () => {
    const sql = "SELECT a1, 'it''s' AS s -- note\nFROM \"T\"\"x\" WHERE n >= {{ min }} AND x = 1.5e3 /* c */";
    const toks = tokenizeSql(sql);
    expect(toks.map((t) => t.text).join('')).toBe(sql);
    for (const t of toks) expect(sql.slice(t.start, t.end)).toBe(t.text);
    const kinds = toks.filter((t) => t.kind !== 'space').map((t) => [t.text, t.kind]);
    expect(kinds).toEqual([
      ['SELECT', 'word'],
      ['a1', 'word'],
      [',', 'punct'],
      ["'it''s'", 'string'],
      ['AS', 'word'],
      ['s', 'word'],
      ['-- note', 'comment'],
      ['FROM', 'word'],
      ['"T""x"', 'quoted'],
      ['WHERE', 'word'],
      ['n', 'word'],
      ['>', 'punct'],
      ['=', 'punct'],
      ['{{ min }}', 'param'],
      ['AND', 'word'],
      ['x', 'word'],
      ['=', 'punct'],
      ['1.5e3', 'number'],
      ['/* c */', 'comment'],
    ]);
  });

  it('runs unterminated strings, names and comments to the end (text being typed)', () => {
    expect(tokenizeSql("WHERE a = 'nor").at(-1)).toMatchObject({ kind: 'string', text: "'nor" });
    expect(tokenizeSql('SELECT "Cu').at(-1)).toMatchObject({ kind: 'quoted', text: '"Cu' });
    expect(tokenizeSql('SELECT 1 /* half').at(-1)).toMatchObject({ kind: 'comment', text: '/* half' });
  });

  it('reads Unicode identifiers as one word', () => {
    expect(tokenizeSql('SELECT größe_2 FROM t').filter((t) => t.kind === 'word').map((t) => t.text)).toEqual(['SELECT', 'größe_2', 'FROM', 't']);
  });
});

describe('lexSql', () => {
  it('keeps the significant tokens and marks comments and string contents inert', () => {
    const sql = "SELECT 'a' -- c\nFROM t";
    const { tokens, inert } = lexSql(sql);
    expect(tokens.map((t) => t.text)).toEqual(['SELECT', "'a'", 'FROM', 't']);
    expect(inert).toEqual([
      [8, 10],
      [11, 15],
    ]);
  });
});

describe('identName', () => {
  it('unquotes names and undoes doubled quotes; other tokens have none', () => {
    const [a, b, c, d, e] = lexSql('x "A ""b""" `c` \'s\' "typ').tokens;
    expect([a, b, c, d, e].map((t) => identName(t!))).toEqual(['x', 'A "b"', 'c', null, 'typ']);
  });
});
