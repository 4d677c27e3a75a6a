// Where an engine's SQL error points, as a range to underline in the editor. The runner sends
// `location: {line, column}` when it finds one; otherwise (older runners, other messages) the
// position is recovered here from the message: DuckDB's `LINE n:` excerpt with its carets,
// sqlparser's `Line: n, Column: m`, or a quoted unknown column/table name found in the SQL.
import { identName, lexSql } from './sqlLexer';

export interface SqlLocation {
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
}

/** A 1-based range in the SQL; `endColumn` is exclusive (Monaco's convention). */
export interface SqlRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

const IDENT_CHAR = /[A-Za-z0-9_$]/;

/** The range to mark for an error about `sql`, or null when the message locates nothing. */
export function locateSqlError(message: string, sql: string, location?: SqlLocation | null): SqlRange | null {
  const lines = sql.split('\n');
  // DuckDB's own excerpt first: its carets also give the length, and the runner's column is off
  // on the first line, where the excerpt includes the runner's COPY wrapper.
  const excerpt = duckdbExcerpt(message, lines);
  if (excerpt) return excerpt;
  if (location && location.line >= 1 && location.line <= lines.length && location.column >= 1 && location.column <= lines[location.line - 1]!.length + 1)
    return rangeAt(lines, location.line, location.column, null);
  return sqlparserPosition(message, lines) ?? quotedName(message, sql);
}

/** A range starting at (line, column): `length` characters, else the identifier or quoted name there, else one character. */
function rangeAt(lines: string[], line: number, column: number, length: number | null): SqlRange {
  const text = lines[line - 1] ?? '';
  if (text.length === 0) return { line, column: 1, endLine: line, endColumn: 1 };
  // Past the end (e.g. "at end of input"): mark the line's last character.
  let start = Math.min(column - 1, text.length - 1);
  let end = start + 1;
  if (length && length > 0) end = Math.min(start + length, text.length);
  else if (text[start] === '"' || text[start] === '`') {
    const close = text.indexOf(text[start]!, start + 1);
    end = close < 0 ? text.length : close + 1;
  } else if (IDENT_CHAR.test(text[start]!)) {
    while (start > 0 && IDENT_CHAR.test(text[start - 1]!)) start--;
    while (end < text.length && IDENT_CHAR.test(text[end]!)) end++;
  }
  return { line, column: start + 1, endLine: line, endColumn: end + 1 };
}

/**
 * DuckDB: `LINE 3: FROM tbl WHERE x` then a line of `^` under the error. The excerpt may be a
 * window of a long line (`...` on either side) and, on the first lines, may include the
 * wrapper the engine put around the query (`COPY (SELECT * FROM (…`), so the excerpt is aligned
 * with the SQL line before the caret offset is applied.
 */
function duckdbExcerpt(message: string, lines: string[]): SqlRange | null {
  const msgLines = message.split('\n');
  for (let i = 0; i < msgLines.length; i++) {
    const m = /^(\s*LINE (\d+): ?)(.*)$/.exec(msgLines[i]!);
    if (!m) continue;
    const line = Number(m[2]);
    const sqlLine = lines[line - 1];
    if (sqlLine === undefined) return null;
    const caretLine = msgLines[i + 1] ?? '';
    const caretAt = caretLine.indexOf('^');
    let shown = m[3]!;
    let caret = caretAt < 0 ? 0 : caretAt - m[1]!.length;
    const carets = caretAt < 0 ? null : /^\^+/.exec(caretLine.slice(caretAt))![0].length;
    if (shown.startsWith('...')) {
      shown = shown.slice(3);
      caret -= 3;
    }
    if (shown.endsWith('...')) shown = shown.slice(0, -3);
    const offset = align(shown, sqlLine);
    if (offset === null || caret < 0) return rangeAt(lines, line, 1, null);
    const column = caret - offset + 1;
    if (column < 1) return rangeAt(lines, line, 1, null);
    return rangeAt(lines, line, column, carets);
  }
  return null;
}

/**
 * How far the SQL line is shifted within the excerpt: `d` ≥ 0 when the excerpt has `d` extra
 * characters before the line's start, negative when the excerpt starts `-d` characters into the line.
 */
function align(shown: string, sqlLine: string): number | null {
  const need = Math.min(4, sqlLine.trim().length, shown.length);
  if (need === 0) return null;
  const overlaps = (a: string, b: string) => {
    const n = Math.min(a.length, b.length);
    return n >= need && a.slice(0, n) === b.slice(0, n);
  };
  for (let d = 0; d < shown.length; d++) if (overlaps(shown.slice(d), sqlLine)) return d;
  for (let e = 1; e < sqlLine.length; e++) if (overlaps(shown, sqlLine.slice(e))) return -e;
  return null;
}

/** sqlparser (Polars SQL): `… at Line: 2, Column: 7`. */
function sqlparserPosition(message: string, lines: string[]): SqlRange | null {
  const m = /Line: (\d+), Column: (\d+)/.exec(message);
  if (!m) return null;
  const line = Number(m[1]);
  if (line < 1 || line > lines.length) return null;
  return rangeAt(lines, line, Number(m[2]), null);
}

/**
 * Polars and DuckDB name the unknown column or table in quotes (`unable to find column "x"`,
 * `relation 'x' was not found`). Names right after a cue word are tried first; the first use of
 * the name as an identifier in the SQL (not in a comment or string) is marked. The hints after
 * the first paragraph ("Did you mean", "Candidate bindings", "valid columns") name other things.
 */
function quotedName(message: string, sql: string): SqlRange | null {
  const head = message.split(/\n\s*\n|Did you mean|Candidate bindings|valid columns|; valid/)[0]!;
  const names: { name: string; cued: boolean }[] = [];
  const re = /(["'`])([^"'`\s]{1,128})\1/g;
  for (let m = re.exec(head); m; m = re.exec(head)) {
    const before = head.slice(Math.max(0, m.index - 16), m.index).toLowerCase();
    names.push({ name: m[2]!, cued: /(column|named|relation|table|field|identifier|name)\s*$/.test(before) });
  }
  // Unquoted: DuckDB's `Table with name x does not exist`.
  const unq = /with name (\w+) does not exist/i.exec(head);
  if (unq) names.push({ name: unq[1]!, cued: true });
  names.sort((a, b) => Number(b.cued) - Number(a.cued));

  const { tokens } = lexSql(sql);
  for (const { name } of names) {
    const tok = tokens.find((t) => identName(t)?.toLowerCase() === name.toLowerCase());
    if (!tok) continue;
    const { line, column } = offsetToPosition(sql, tok.start);
    return { line, column, endLine: line, endColumn: column + (tok.end - tok.start) };
  }
  return null;
}

export function offsetToPosition(text: string, offset: number): SqlLocation {
  const before = text.slice(0, offset);
  const nl = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - nl };
}
