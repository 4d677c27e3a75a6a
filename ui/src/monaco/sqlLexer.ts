// A small SQL tokenizer for editor features (completion, error positions): identifiers,
// quoted identifiers, strings, numbers and punctuation with their offsets. Comments are dropped.
// It does not validate anything; the engine does.

export type TokenType = 'word' | 'quoted' | 'string' | 'number' | 'punct';

export interface Token {
  type: TokenType;
  /** Raw text; for `quoted`, the name without its quotes. */
  text: string;
  start: number;
  end: number;
}

export interface Lexed {
  tokens: Token[];
  /** [start, end) ranges of comments and string literals: no completion inside them. */
  inert: [number, number][];
}

const WORD = /[A-Za-z0-9_$]/;

export function lexSql(sql: string): Lexed {
  const tokens: Token[] = [];
  const inert: [number, number][] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const e = sql.indexOf('\n', i);
      const end = e < 0 ? n : e;
      inert.push([i, end]);
      i = end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const e = sql.indexOf('*/', i + 2);
      const end = e < 0 ? n : e + 2;
      inert.push([i, end]);
      i = end;
    } else if (c === "'") {
      let j = i + 1;
      // '' inside a string is an escaped quote.
      while (j < n && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" ? 2 : 1;
      const end = Math.min(j + 1, n);
      tokens.push({ type: 'string', text: sql.slice(i, end), start: i, end });
      inert.push([i + 1, end]);
      i = end;
    } else if (c === '"' || c === '`') {
      const e = sql.indexOf(c, i + 1);
      const end = e < 0 ? n : e + 1;
      tokens.push({ type: 'quoted', text: sql.slice(i + 1, e < 0 ? n : e), start: i, end });
      i = end;
    } else if (WORD.test(c)) {
      let j = i + 1;
      while (j < n && WORD.test(sql[j]!)) j++;
      const text = sql.slice(i, j);
      tokens.push({ type: /^[0-9]/.test(text) ? 'number' : 'word', text, start: i, end: j });
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      tokens.push({ type: 'punct', text: c, start: i, end: i + 1 });
      i++;
    }
  }
  return { tokens, inert };
}

/** The name a word or quoted-identifier token stands for (unquoted words compare case-insensitively). */
export function identName(t: Token): string | null {
  if (t.type === 'quoted') return t.text;
  if (t.type === 'word') return t.text;
  return null;
}
