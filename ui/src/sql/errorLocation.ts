// Where an engine's SQL error points, as a range in the SQL: the notebook underlines it in the
// editor, the runs view marks it in the failed task's SQL. The runner sends `location` in error
// bodies and `error_location` on failed task runs (crates/engine/src/sqlerror.rs); this also
// recovers the position from the message for older runs and messages it misses: DuckDB's
// `LINE n:` excerpt with its carets, sqlparser's `Line: n, Column: m`, or a quoted unknown
// column/table name found in the SQL.
import { identName, lexSql } from './tokens';

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

const IDENT_CHAR = /[\p{L}\p{N}_$]/u;

/**
 * The range to mark for an error about `sql`, or null when nothing points into it. `reported`
 * is the runner's location; it is used when it lies inside the SQL.
 */
export function locateSqlError(message: string | null | undefined, sql: string, reported?: SqlLocation | null): SqlRange | null {
  const lines = sql.split(/\r?\n/);
  const msg = message ?? '';
  // DuckDB's own excerpt first: its carets also give the length. (Runners before the wrapper fix
  // put their COPY wrapper in line 1's excerpt; the excerpt parser allows for that.)
  const excerpt = duckdbExcerpt(msg, lines);
  if (excerpt) return excerpt;
  if (reported && reported.line >= 1 && reported.line <= lines.length && reported.column >= 1 && reported.column <= lines[reported.line - 1]!.length + 1)
    return rangeAt(lines, reported.line, reported.column, null);
  return sqlparserPosition(msg, lines) ?? quotedName(msg, sql);
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

const EXCERPT = /^(\s*LINE (\d+): ?)(.*)$/;

/** DuckDB's excerpt text without the `...` it puts around a window of a long line. */
function unwindow(shown: string): { text: string; skipped: number } {
  const skipped = shown.startsWith('...') ? 3 : 0;
  const text = shown.slice(skipped);
  return { text: text.endsWith('...') ? text.slice(0, -3) : text, skipped };
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
    const m = EXCERPT.exec(msgLines[i]!);
    if (!m) continue;
    const line = Number(m[2]);
    const sqlLine = lines[line - 1];
    if (sqlLine === undefined) return null;
    const caretLine = msgLines[i + 1] ?? '';
    const caretAt = caretLine.indexOf('^');
    const { text: shown, skipped } = unwindow(m[3]!);
    const caret = (caretAt < 0 ? 0 : caretAt - m[1]!.length) - skipped;
    const carets = caretAt < 0 ? null : /^\^+/.exec(caretLine.slice(caretAt))![0].length;
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

const SQLPARSER = /Line: (\d+), Column: (\d+)/;

/** sqlparser (Polars SQL): `… at Line: 2, Column: 7`. */
function sqlparserPosition(message: string, lines: string[]): SqlRange | null {
  const m = SQLPARSER.exec(message);
  if (!m) return null;
  const line = Number(m[1]);
  if (line < 1 || line > lines.length) return null;
  return rangeAt(lines, line, Number(m[2]), null);
}

/**
 * The names a message quotes, the likely unknown one first: Polars and DuckDB name the unknown
 * column or table in quotes (`unable to find column "x"`, `relation 'x' was not found`), right
 * after a cue word. The hints after the first paragraph ("Did you mean", "Candidate bindings",
 * "valid columns") name other, valid things and are left out.
 */
function quotedNames(message: string): { name: string; cued: boolean }[] {
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
  return names.sort((a, b) => Number(b.cued) - Number(a.cued));
}

/** The first quoted name of the message that the SQL uses as an identifier. */
function quotedName(message: string, sql: string): SqlRange | null {
  for (const { name } of quotedNames(message)) {
    const r = findIdent(sql, name);
    if (r) return r;
  }
  return null;
}

/** The first use of `name` as an identifier in `sql` (case-insensitive; not in comments or strings). */
export function findIdent(sql: string, name: string): SqlRange | null {
  const want = name.toLowerCase();
  const tok = lexSql(sql).tokens.find((t) => identName(t)?.toLowerCase() === want);
  if (!tok) return null;
  const { line, column } = offsetToPosition(sql, tok.start);
  return { line, column, endLine: line, endColumn: column + (tok.end - tok.start) };
}

/** Words that say a message is about an unknown name (without one, a quoted text may be anything). */
const CUES = ['column', 'table', 'relation', 'field', 'identifier', 'not found'];

/**
 * True when the message quotes SQL that the current text no longer has (a DuckDB `LINE n:`
 * excerpt, or the unknown name): the task was edited since the run failed, so a location found
 * in today's SQL may point at the wrong place.
 */
export function sqlChangedSince(message: string | null | undefined, sql: string): boolean {
  if (!message) return false;
  const excerpt = message.split('\n').map((l) => EXCERPT.exec(l)).find((m) => m);
  if (excerpt) {
    const shown = unwindow(excerpt[3]!).text.trim();
    const line = sql.split(/\r?\n/)[Number(excerpt[2]) - 1]?.trim();
    if (line === undefined) return true;
    // The excerpt is the line, a window of it, or (older runners) the line inside wrapper text.
    return shown !== '' && !line.includes(shown) && !(line !== '' && shown.includes(line));
  }
  if (SQLPARSER.test(message)) return false;
  const lower = message.toLowerCase();
  if (!CUES.some((c) => lower.includes(c))) return false;
  const unknown = quotedNames(message)[0];
  return unknown !== undefined && findIdent(sql, unknown.name) === null;
}

export function offsetToPosition(text: string, offset: number): SqlLocation {
  const before = text.slice(0, offset);
  const nl = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - nl };
}
