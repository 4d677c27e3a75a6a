// Where a Python task's error points, as a range in its code: the notebook underlines it in the
// editor, the runs view marks it in the failed task's code. The runner sends `location` in error
// bodies and `error_location` on failed task runs; without one (or outside the code) the position
// comes from the message: `Python error in <the task's file>, line N`, else the traceback's deepest
// `File "<the task's file>", line N`, else a column the message names (`unable to find column "x"`)
// written as a string literal in the code.
import type { SqlLocation, SqlRange } from '../sql/errorLocation';
import { stringValue, tokenizePython } from './tokens';

const WORD_CHAR = /[\p{L}\p{N}_]/u;
const basename = (path: string) => path.split(/[\\/]/).pop()!;

/**
 * The range to mark for an error of the task whose code is `code` (from `file`, if it has one),
 * or null when nothing points into it.
 */
export function locatePythonError(
  message: string | null | undefined,
  code: string,
  reported?: SqlLocation | null,
  file?: string | null,
): SqlRange | null {
  const lines = code.split(/\r?\n/);
  const msg = message ?? '';
  if (reported && reported.line >= 1 && reported.line <= lines.length && reported.column >= 1)
    return rangeAt(lines, reported.line, reported.column);
  const frame = tracebackLine(msg, file ?? null);
  if (frame !== null && frame <= lines.length) return rangeAt(lines, frame, 1);
  return quotedColumn(msg, code);
}

/**
 * A range on `line`: the word or string literal at `column`, or the line's text (without its
 * indentation) when the column is in the indentation or past the end (a line-only position).
 */
function rangeAt(lines: string[], line: number, column: number): SqlRange {
  const text = lines[line - 1] ?? '';
  const indent = text.length - text.trimStart().length;
  const whole = { line, column: indent + 1, endLine: line, endColumn: Math.max(indent + 1, text.trimEnd().length + 1) };
  const at = column - 1;
  if (at <= indent || at >= text.length) return whole;
  const ch = text[at]!;
  if (ch === '"' || ch === "'") {
    const close = text.indexOf(ch, at + 1);
    return { line, column: at + 1, endLine: line, endColumn: (close < 0 ? text.length : close + 1) + 1 };
  }
  if (!WORD_CHAR.test(ch)) return { line, column: at + 1, endLine: line, endColumn: at + 2 };
  let start = at;
  let end = at + 1;
  while (start > 0 && WORD_CHAR.test(text[start - 1]!)) start--;
  while (end < text.length && WORD_CHAR.test(text[end]!)) end++;
  return { line, column: start + 1, endLine: line, endColumn: end + 1 };
}

const HEAD = /Python error in ([^,\n]+), line (\d+)/;
const FRAME = /File "([^"]+)", line (\d+)/g;

/**
 * The line of the task's file an error names: the runner's `Python error in <file>, line N` when
 * that is the task's file, else the deepest traceback frame in it (by basename; `<…>` names for
 * inline code).
 */
export function tracebackLine(message: string, file: string | null): number | null {
  const base = file ? basename(file) : null;
  const own = (name: string) => (base ? basename(name) === base : /^<.*>$/.test(name));
  const head = HEAD.exec(message);
  if (head && own(head[1]!)) return Number(head[2]);
  let found: number | null = null;
  for (const m of message.matchAll(FRAME)) if (own(m[1]!)) found = Number(m[2]);
  return found;
}


/** The names a message quotes after a cue word (`column "x"`, `ColumnNotFoundError: x`), the likely unknown one first. */
function quotedNames(message: string): string[] {
  // The hints that follow name other, valid columns.
  const head = message.split(/valid columns|Did you mean|Resolved plan/)[0]!;
  const out: string[] = [];
  for (const m of head.matchAll(/(column|field|name)\s*(["'`])([^"'`\n]{1,128})\2/gi)) out.push(m[3]!);
  for (const m of head.matchAll(/ColumnNotFoundError: ([^\s"'`;,]+)/g)) out.push(m[1]!);
  for (const m of head.matchAll(/(["'`])([^"'`\n]{1,128})\1/g)) if (!out.includes(m[2]!)) out.push(m[2]!);
  return out;
}

/** The first string literal of the code whose text is a name the message quotes. */
function quotedColumn(message: string, code: string): SqlRange | null {
  const names = quotedNames(message);
  if (names.length === 0) return null;
  const strings = tokenizePython(code).filter((t) => t.kind === 'string');
  for (const name of names) {
    const lit = strings.find((t) => stringValue(t) === name);
    if (!lit) continue;
    const before = code.slice(0, lit.start);
    const line = before.split('\n').length;
    const column = lit.start - before.lastIndexOf('\n');
    return { line, column, endLine: line, endColumn: column + lit.text.length };
  }
  return null;
}

/**
 * True when the traceback quotes a line of the task's file that its code no longer has there:
 * the task was edited since the run failed, so a position found today may mislead.
 */
export function pythonChangedSince(message: string | null | undefined, code: string, file: string | null): boolean {
  if (!message || !file) return false;
  const base = basename(file);
  const lines = code.split(/\r?\n/);
  const msgLines = message.split('\n');
  for (let i = 0; i < msgLines.length; i++) {
    const m = /File "([^"]+)", line (\d+)/.exec(msgLines[i]!);
    if (!m || basename(m[1]!) !== base) continue;
    const quoted = msgLines[i + 1]?.trim();
    // Python prints the source line under its frame (when it could read it).
    if (!quoted || /^(File |\^|~)/.test(quoted)) continue;
    const now = lines[Number(m[2]) - 1];
    if (now === undefined || now.trim() !== quoted) return true;
  }
  return false;
}
