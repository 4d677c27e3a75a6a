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
