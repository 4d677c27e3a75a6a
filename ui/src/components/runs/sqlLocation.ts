// Where a failed SQL task's error points in its SQL. The runner reports `error_location` on task
// runs; this reads the same cues from the message for runs recorded without it (the algorithm
// mirrors crates/engine/src/sqlerror.rs): DuckDB's `LINE n:` excerpt with its caret, sqlparser's
// `Line: n, Column: m`, or a quoted unknown column/table name found in the SQL.

/** 1-based line and column (in characters). */
export interface SqlLocation {
  line: number;
  column: number;
}

export function locateSqlError(message: string, sql: string): SqlLocation | null {
  return duckdbExcerpt(message, sql) ?? sqlparserPosition(message) ?? quotedName(message, sql);
}

/** The location to show: the runner's when it sent one that fits the SQL, else the message's. */
export function errorLocation(
  reported: SqlLocation | null | undefined,
  message: string | null | undefined,
  sql: string,
): SqlLocation | null {
  const lines = sql.split(/\r?\n/);
  if (reported && reported.line >= 1 && reported.line <= lines.length) return reported;
  return message ? locateSqlError(message, sql) : null;
}

/**
 * DuckDB: `LINE 3:  FROM tbl WHERE x` then a line with `^` under the error. Long lines are shown
 * as a window starting with `...`, so the excerpt is searched for in the SQL line.
 */
function duckdbExcerpt(message: string, sql: string): SqlLocation | null {
  const lines = message.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const m = /^(\s*LINE (\d+):)(.*)$/.exec(l);
    if (!m) continue;
    const line = Number(m[2]);
    const excerpt = m[3]!;
    const prefixLen = m[1]!.length;
    const caretAt = lines[i + 1]?.indexOf('^') ?? -1;
    let col = caretAt >= 0 ? Math.max(0, caretAt - prefixLen) : 0;
    let shown = excerpt.startsWith(' ') ? excerpt.slice(1) : excerpt;
    col = Math.max(0, col - (excerpt.length - shown.length));
    let skipped = 0;
    if (shown.startsWith('...')) {
      shown = shown.slice(3);
      skipped = 3;
    }
    if (shown.endsWith('...')) shown = shown.slice(0, -3);
    const sqlLine = sql.split(/\r?\n/)[line - 1];
    if (sqlLine === undefined) return null;
    const needle = shown.trimEnd();
    const found = needle ? sqlLine.indexOf(needle) : 0;
    const start = Math.max(0, found);
    const offset = Math.min(sqlLine.length, start + Math.max(0, col - skipped));
    return { line, column: [...sqlLine.slice(0, offset)].length + 1 };
  }
  return null;
}

/** sqlparser: `… at Line: 2, Column: 7`. */
function sqlparserPosition(message: string): SqlLocation | null {
  const m = /Line: (\d+), Column: (\d+)/.exec(message);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : null;
}

const CUES = ['column', 'table', 'relation', 'field', 'identifier', 'not found'];

/** Polars and others quote the unknown column or table: find its first use as a whole word. */
function quotedName(message: string, sql: string): SqlLocation | null {
  const lower = message.toLowerCase();
  if (!CUES.some((c) => lower.includes(c))) return null;
  for (const q of ['"', "'", '`']) {
    const parts = message.split(q);
    // Odd indexes are the quoted parts (when closed).
    for (let i = 1; i + 1 < parts.length; i += 2) {
      const name = parts[i]!;
      if (!name || name.length > 128 || /\s/.test(name)) continue;
      const loc = findWord(sql, name);
      if (loc) return loc;
    }
  }
  return null;
}

const isIdent = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

/** The first occurrence of `word` in `sql` as a whole identifier (case-insensitive). */
export function findWord(sql: string, word: string): SqlLocation | null {
  const w = word.toLowerCase();
  const lines = sql.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const lower = lines[n]!.toLowerCase();
    let from = 0;
    for (;;) {
      const start = lower.indexOf(w, from);
      if (start < 0) break;
      const end = start + w.length;
      if (!isIdent(lower[start - 1]) && !isIdent(lower[end])) {
        return { line: n + 1, column: [...lines[n]!.slice(0, start)].length + 1 };
      }
      from = end;
    }
  }
  return null;
}

/**
 * True when the message quotes SQL that the current text no longer has (a DuckDB `LINE n:`
 * excerpt, or the only quoted unknown name): the task was edited since the run failed, so a
 * location found in today's SQL may point at the wrong place.
 */
export function sqlChangedSince(message: string | null | undefined, sql: string): boolean {
  if (!message) return false;
  const excerpt = /^\s*LINE (\d+): ?(.*)$/m.exec(message);
  if (excerpt) {
    const shown = excerpt[2]!.replace(/^\.\.\./, '').replace(/\.\.\.$/, '').trim();
    const line = sql.split(/\r?\n/)[Number(excerpt[1]) - 1];
    return line === undefined || (shown !== '' && !line.includes(shown));
  }
  if (/Line: \d+, Column: \d+/.test(message)) return false;
  if (!CUES.some((c) => message.toLowerCase().includes(c))) return false;
  // The first quoted name is the unknown one; later ones list valid columns, which stay.
  const first = /["'`]([^"'`\s]+)["'`]/.exec(message);
  return first !== null && findWord(sql, first[1]!) === null;
}
