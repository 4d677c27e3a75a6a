// The one SQL tokenizer of the UI: lexical classes with their offsets, losslessly (the texts of
// all tokens give back the SQL). Editor completion and error location read the significant
// tokens (`lexSql`); the runs view colours all of them. Not a parser: the engine validates.
// Keywords are not a lexical class here (a column may be called `date`); highlighting decides.

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'comment' | 'param' | 'punct' | 'space';

export interface Token {
  kind: TokenKind;
  /** The raw text, quotes included. */
  text: string;
  /** [start, end) offsets in the SQL. */
  start: number;
  end: number;
}

// Tried in order at each offset; the last one always matches one character. Unterminated
// strings, quoted names, comments and `{{ }}` run to the end (the user is still typing them).
const RULES: [TokenKind, RegExp][] = [
  ['space', /\s+/y],
  ['comment', /--[^\n]*/y],
  ['comment', /\/\*[\s\S]*?(\*\/|$)/y],
  ['param', /\{\{[\s\S]*?(\}\}|$)/y],
  ['string', /'(?:[^']|'')*('|$)/y],
  ['quoted', /"(?:[^"]|"")*("|$)/y],
  ['quoted', /`(?:[^`]|``)*(`|$)/y],
  ['number', /\d+(\.\d+)?([eE][+-]?\d+)?/y],
  ['word', /[\p{L}_][\p{L}\p{N}_$]*/uy],
  ['punct', /[\s\S]/y],
];

/** Every token of `sql`, whitespace and comments included. */
export function tokenizeSql(sql: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  while (pos < sql.length) {
    for (const [kind, re] of RULES) {
      re.lastIndex = pos;
      const m = re.exec(sql);
      if (!m || m[0].length === 0) continue;
      out.push({ kind, text: m[0], start: pos, end: pos + m[0].length });
      pos += m[0].length;
      break;
    }
  }
  return out;
}

export interface Lexed {
  /** The tokens that mean something to a query: no whitespace, no comments. */
  tokens: Token[];
  /** [start, end) ranges of comments and string literals' contents: no completion inside them. */
  inert: [number, number][];
}

export function lexSql(sql: string): Lexed {
  const tokens: Token[] = [];
  const inert: [number, number][] = [];
  for (const t of tokenizeSql(sql)) {
    if (t.kind === 'comment') inert.push([t.start, t.end]);
    else if (t.kind === 'string') inert.push([t.start + 1, t.end]);
    if (t.kind !== 'space' && t.kind !== 'comment') tokens.push(t);
  }
  return { tokens, inert };
}

/** The name a word or quoted-identifier token stands for (quotes removed, doubled quotes undone). */
export function identName(t: Token): string | null {
  if (t.kind === 'word') return t.text;
  if (t.kind !== 'quoted') return null;
  const q = t.text[0]!;
  const inner = t.text.slice(1);
  // Closed when the trailing run of quotes is odd: an even run is escaped quotes (still typing).
  const run = inner.length - inner.replace(new RegExp(`${q}+$`), '').length;
  return (run % 2 === 1 ? inner.slice(0, -1) : inner).replaceAll(q + q, q);
}
