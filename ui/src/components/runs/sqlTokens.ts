// A light SQL tokenizer for read-only highlighting (the failed task's SQL): keywords, strings,
// numbers, comments, `{{ params }}`, and the token an error location points at. Not a parser:
// it only has to colour text and split it into lines.

export type TokenKind = 'keyword' | 'string' | 'number' | 'comment' | 'param' | 'ident' | 'punct' | 'space';

export interface SqlToken {
  text: string;
  kind: TokenKind;
  /** Set on the token an error location points at. */
  error?: boolean;
}

const KEYWORDS = new Set(
  (
    'select from where group by order having limit offset join left right full inner outer cross on using as and or not ' +
    'in is null like ilike between case when then else end distinct all union intersect except with recursive over ' +
    'partition rows range preceding following unbounded current row asc desc nulls first last true false cast ' +
    'interval exists any qualify window filter values insert into update delete create table view replace struct ' +
    'date timestamp'
  ).split(' '),
);

const RULES: [TokenKind, RegExp][] = [
  ['space', /\s+/y],
  ['comment', /--[^\n]*/y],
  ['comment', /\/\*[\s\S]*?(\*\/|$)/y],
  ['param', /\{\{[\s\S]*?(\}\}|$)/y],
  ['string', /'(?:[^']|'')*('|$)/y],
  ['ident', /"(?:[^"]|"")*("|$)/y],
  ['number', /\d+(\.\d+)?([eE][+-]?\d+)?/y],
  ['ident', /[\p{L}_][\p{L}\p{N}_$]*/uy],
  ['punct', /[\s\S]/y],
];

/** Tokens of `sql`; concatenated, their texts give back `sql` exactly. */
export function tokenizeSql(sql: string): SqlToken[] {
  const out: SqlToken[] = [];
  let pos = 0;
  while (pos < sql.length) {
    for (const [kind, re] of RULES) {
      re.lastIndex = pos;
      const m = re.exec(sql);
      if (!m || m[0].length === 0) continue;
      const text = m[0];
      out.push({ text, kind: kind === 'ident' && KEYWORDS.has(text.toLowerCase()) ? 'keyword' : kind });
      pos += text.length;
      break;
    }
  }
  return out;
}

/** Tokens per line (tokens spanning lines, like block comments, are split at the newlines). */
export function sqlLines(sql: string): SqlToken[][] {
  const lines: SqlToken[][] = [[]];
  for (const t of tokenizeSql(sql.replace(/\r\n?/g, '\n'))) {
    const parts = t.text.split('\n');
    parts.forEach((p, i) => {
      if (i > 0) lines.push([]);
      if (p) lines[lines.length - 1]!.push({ text: p, kind: t.kind });
    });
  }
  return lines;
}

/**
 * Marks the token at `column` (1-based, in characters) of one line: the token containing it,
 * or, when that is whitespace, the next token (carets often sit just before a word).
 */
export function markColumn(line: SqlToken[], column: number): SqlToken[] {
  let start = 0;
  let target = -1;
  for (let i = 0; i < line.length; i++) {
    const len = [...line[i]!.text].length;
    if (column - 1 < start + len) {
      target = i;
      break;
    }
    start += len;
  }
  if (target < 0) return line;
  if (line[target]!.kind === 'space' && target + 1 < line.length) target += 1;
  return line.map((t, i) => (i === target ? { ...t, error: true } : t));
}
