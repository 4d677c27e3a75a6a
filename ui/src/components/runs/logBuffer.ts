// Pure pieces of the live log view: a bounded line buffer and the "is the user at the bottom"
// test that decides whether new lines scroll the view.

/** Lines kept in the page; older ones are dropped (the full log stays on the runner). */
export const MAX_LOG_LINES = 20_000;

export interface LogBuffer {
  lines: string[];
  /** Lines dropped from the top to stay under the cap. */
  dropped: number;
}

export const emptyLog = (): LogBuffer => ({ lines: [], dropped: 0 });

/** Appends lines, dropping the oldest beyond `max`. Returns a new buffer. */
export function appendLines(buf: LogBuffer, lines: string[], max = MAX_LOG_LINES): LogBuffer {
  const all = buf.lines.concat(lines);
  const over = Math.max(0, all.length - max);
  return { lines: over ? all.slice(over) : all, dropped: buf.dropped + over };
}

/** A whole log text as a buffer (a trailing newline does not make an empty last line). */
export function logFromText(text: string, max = MAX_LOG_LINES): LogBuffer {
  if (!text) return emptyLog();
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  return appendLines(emptyLog(), lines, max);
}

/** True when the scroll position is within `slackPx` of the end: new lines then keep it there. */
export function atBottom(scrollTop: number, clientHeight: number, scrollHeight: number, slackPx = 24): boolean {
  return scrollHeight - (scrollTop + clientHeight) <= slackPx;
}

// ---- levels, search, pieces of a line ----

/** How a log line is coloured: the runner's errors and warnings, a check's result, a process's output. */
export type LogLevel = 'error' | 'warn' | 'ok' | 'output' | 'info';

const TIME = /^\d{2}:\d{2}:\d{2}\.\d{3} /;

/** The length of a line's `HH:MM:SS.mmm ` time prefix (0 when it has none). */
export function timeLength(line: string): number {
  return TIME.test(line) ? 13 : 0;
}

/**
 * A line's level, from what follows its time: `error:` and a failed check's `FAIL` are errors,
 * `warning:` and `WARN` warnings, a passed check's `ok` is ok, and `| ` starts a process's output.
 */
export function lineLevel(line: string): LogLevel {
  const rest = line.slice(timeLength(line));
  if (/^(error:|FAIL\b)/.test(rest)) return 'error';
  if (/^(warning:|WARN\b)/.test(rest)) return 'warn';
  if (/^ok\s/.test(rest)) return 'ok';
  if (rest.startsWith('| ') || rest === '|') return 'output';
  return 'info';
}

/**
 * Each line's level. A message of several lines is written at once, so its lines share their
 * time: a plain line with the same time as an error or warning just before it continues that
 * message and takes its level (a SQL error's "LINE 4: …" and caret lines).
 */
export function lineLevels(lines: string[]): LogLevel[] {
  const out: LogLevel[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let level = lineLevel(line);
    const prev = i > 0 ? out[i - 1]! : null;
    if (level === 'info' && (prev === 'error' || prev === 'warn')) {
      const t = timeLength(line);
      const pt = timeLength(lines[i - 1]!);
      if (t && pt && line.slice(0, t) === lines[i - 1]!.slice(0, pt)) level = prev;
    }
    out.push(level);
  }
  return out;
}

/** One occurrence of the search text: its line and where in it (UTF-16 offsets, end exclusive). */
export interface LogMatch {
  line: number;
  start: number;
  end: number;
}

/** Most matches listed (a search for "a" in a big log stays fast). */
export const MAX_MATCHES = 10_000;

/** Every case-insensitive occurrence of `query` in `lines`, in order (none for an empty query). */
export function findMatches(lines: string[], query: string, max = MAX_MATCHES): LogMatch[] {
  const q = query.toLowerCase();
  const out: LogMatch[] = [];
  if (!q) return out;
  for (let i = 0; i < lines.length && out.length < max; i++) {
    const l = lines[i]!.toLowerCase();
    for (let at = l.indexOf(q); at >= 0 && out.length < max; at = l.indexOf(q, at + q.length)) out.push({ line: i, start: at, end: at + q.length });
  }
  return out;
}

/** The match after (`step` 1) or before (-1) `current`, wrapping around; 0 when none was current. */
export function stepMatch(current: number | null, count: number, step: 1 | -1): number | null {
  if (count === 0) return null;
  if (current == null) return step === 1 ? 0 : count - 1;
  return (((current + step) % count) + count) % count;
}

/** "3 of 12", "no matches", or "" without a query. */
export function matchCountText(current: number | null, count: number, query: string): string {
  if (!query) return '';
  if (count === 0) return 'no matches';
  const total = count >= MAX_MATCHES ? `${MAX_MATCHES.toLocaleString('en-US')}+` : count.toLocaleString('en-US');
  return current == null ? `${total} matches` : `${(current + 1).toLocaleString('en-US')} of ${total}`;
}

/** A piece of a line as shown: the time prefix, plain text, or a match (the current one marked). */
export interface LinePiece {
  text: string;
  time: boolean;
  /** Index of the match in the whole list, when this piece is one. */
  match: number | null;
}

/**
 * Splits a line at its time prefix and at its matches (`matches`: this line's, in order, with
 * their index in the whole list), so each piece can be styled on its own.
 */
export function linePieces(line: string, matches: { start: number; end: number; index: number }[]): LinePiece[] {
  const t = timeLength(line);
  const cuts = new Set<number>([0, line.length]);
  if (t) cuts.add(t);
  for (const m of matches) {
    cuts.add(Math.min(m.start, line.length));
    cuts.add(Math.min(m.end, line.length));
  }
  const at = [...cuts].sort((a, b) => a - b);
  const out: LinePiece[] = [];
  for (let k = 0; k + 1 < at.length; k++) {
    const a = at[k]!;
    const b = at[k + 1]!;
    if (a === b) continue;
    const m = matches.find((x) => x.start <= a && b <= x.end);
    out.push({ text: line.slice(a, b), time: a < t, match: m ? m.index : null });
  }
  return out;
}

/** The download's file name: `<pipeline>-run<id>-<task>.log`, without characters file systems refuse. */
export function logFileName(pipeline: string | null | undefined, runId: number, task: string): string {
  const safe = (s: string) => s.replace(/[^\w.-]+/g, '_');
  return `${pipeline ? `${safe(pipeline)}-` : ''}run${runId}-${safe(task)}.log`;
}
