// Copying a selection as TSV: which rows and columns a glide selection covers, and the text.

/** Most cells one copy takes; bigger selections are refused with a message (memory, clipboard). */
export const MAX_COPY_CELLS = 100_000;

/** Rows as half-open ranges [start, end) in order, and column indexes in order. */
export interface CopyRegion {
  rows: [number, number][];
  cols: number[];
}

/** The part of a glide selection that a copy takes, in data coordinates. */
export interface SelectionLike {
  /** The focused range (cells). */
  range?: { x: number; y: number; width: number; height: number };
  /** Whole rows, as [start, end) ranges (glide's CompactSelection.items). */
  rows: readonly (readonly [number, number])[];
  /** Whole columns, as [start, end) ranges. */
  columns: readonly (readonly [number, number])[];
}

function expand(ranges: readonly (readonly [number, number])[]): number[] {
  const out: number[] = [];
  for (const [a, b] of ranges) for (let i = a; i < b; i++) out.push(i);
  return out;
}

/**
 * What to copy, in glide's order of preference: selected whole rows (all columns), else whole
 * columns (all rows), else the cell range. Null when nothing is selected.
 */
export function copyRegion(sel: SelectionLike, totalRows: number, ncols: number): CopyRegion | null {
  if (sel.rows.length > 0) {
    return { rows: sel.rows.map(([a, b]) => [a, Math.min(b, totalRows)] as [number, number]), cols: expand([[0, ncols]]) };
  }
  if (sel.columns.length > 0) {
    return { rows: totalRows > 0 ? [[0, totalRows]] : [], cols: expand(sel.columns).filter((c) => c < ncols) };
  }
  if (sel.range && sel.range.width > 0 && sel.range.height > 0) {
    const { x, y, width, height } = sel.range;
    return { rows: [[y, Math.min(y + height, totalRows)]], cols: expand([[x, Math.min(x + width, ncols)]]) };
  }
  return null;
}

export function regionCells(r: CopyRegion): number {
  return r.rows.reduce((n, [a, b]) => n + Math.max(0, b - a), 0) * r.cols.length;
}

/** A refusal message when a region is too big to copy, else null. */
export function copyTooBig(r: CopyRegion, max = MAX_COPY_CELLS): string | null {
  const n = regionCells(r);
  return n > max
    ? `Selection too big to copy: ${n.toLocaleString('en-US')} cells (at most ${max.toLocaleString('en-US')}). Export the view to CSV instead.`
    : null;
}

/** One TSV field: NULL is empty; text with a tab, newline or quote is quoted with quotes doubled (as spreadsheets read it). */
export function tsvField(s: string | null): string {
  if (s === null) return '';
  return /[\t\n\r"]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The TSV of a region; `cell(row, col)` gives a cell's exact text (null for NULL). Rows end with "\n" except the last. */
export function buildTsv(r: CopyRegion, cell: (row: number, col: number) => string | null, header?: readonly string[]): string {
  const lines: string[] = [];
  if (header) lines.push(r.cols.map((c) => tsvField(header[c] ?? '')).join('\t'));
  for (const [a, b] of r.rows) {
    for (let row = a; row < b; row++) lines.push(r.cols.map((c) => tsvField(cell(row, c))).join('\t'));
  }
  return lines.join('\n');
}
