// Read-only SQL highlighting (a failed task's SQL): the shared tokenizer's tokens, split into
// lines, with bare words coloured as keywords when they are one, and the token an error
// location points at marked. Classes are `tk-<kind>` (runs.css).
import { tokenizeSql, type TokenKind } from '../../sql/tokens';

export type HighlightKind = 'keyword' | 'ident' | 'string' | 'number' | 'comment' | 'param' | 'punct' | 'space';

export interface HighlightToken {
  text: string;
  kind: HighlightKind;
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

function kindOf(kind: TokenKind, text: string): HighlightKind {
  if (kind === 'word') return KEYWORDS.has(text.toLowerCase()) ? 'keyword' : 'ident';
  return kind === 'quoted' ? 'ident' : kind;
}

/** Tokens per line (tokens spanning lines, like block comments, are split at the newlines). */
export function sqlLines(sql: string): HighlightToken[][] {
  const lines: HighlightToken[][] = [[]];
  for (const t of tokenizeSql(sql.replace(/\r\n?/g, '\n'))) {
    const kind = kindOf(t.kind, t.text);
    t.text.split('\n').forEach((p, i) => {
      if (i > 0) lines.push([]);
      if (p) lines[lines.length - 1]!.push({ text: p, kind });
    });
  }
  return lines;
}

/**
 * Marks the token at `column` (1-based, in characters) of one line: the token containing it,
 * or, when that is whitespace, the next token (carets often sit just before a word).
 */
export function markColumn(line: HighlightToken[], column: number): HighlightToken[] {
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
