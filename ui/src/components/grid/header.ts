import type { DrawHeaderCallback } from '@glideapps/glide-data-grid';
import type { GridPalette } from './theme';

/** What a header shows besides the name; stats are of the whole output, not of the view. */
export interface HeaderInfo {
  name: string;
  type: string;
  stats?: { nullCount: number; min: string | null; max: string | null };
  /** Sort direction and, when several keys are active, this key's 1-based rank. */
  sort?: { dir: 'asc' | 'desc'; rank: number | null };
  filtered?: boolean;
}

export const HEADER_HEIGHT = 42;

const fmtInt = new Intl.NumberFormat('en-US');

/** The header's second line: type, null count (0 too: "no nulls" is worth knowing), min … max. */
export function headerDetail(h: HeaderInfo): string {
  if (!h.stats) return h.type;
  const parts = [h.type];
  parts.push(`${fmtInt.format(h.stats.nullCount)} null`);
  if (h.stats.min !== null || h.stats.max !== null) parts.push(`${h.stats.min ?? '∅'} … ${h.stats.max ?? '∅'}`);
  return parts.join(' · ');
}

/** Cuts `text` with an ellipsis to fit `maxWidth` on the canvas (binary search on the length). */
function fit(ctx: CanvasRenderingContext2D, text: string, maxWidth: number): string {
  if (maxWidth <= 0) return '';
  if (ctx.measureText(text).width <= maxWidth) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(text.slice(0, mid) + '…').width <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, lo) + '…';
}

/**
 * A two-line header painter: bold name (plus sort mark) over a muted "type · nulls · min … max".
 * `info` is read at paint time so stats and sort changes need only a redraw, not new columns.
 */
export function makeHeaderPainter(info: () => readonly HeaderInfo[], palette: () => GridPalette): DrawHeaderCallback {
  return ({ ctx, columnIndex, theme, rect, isSelected, isHovered, menuBounds, column }) => {
    const h = info()[columnIndex];
    if (!h) return;
    const pal = palette();
    const pad = theme.cellHorizontalPadding;
    const menuW = column.hasMenu && isHovered ? menuBounds.width : 0;
    let right = rect.x + rect.width - pad - menuW;
    const fg = isSelected ? theme.textHeaderSelected : theme.textHeader;
    const sub = isSelected ? theme.textHeaderSelected : pal.muted;
    ctx.textBaseline = 'middle';

    ctx.font = `600 12px ${pal.fontUi}`;
    const markColor = isSelected ? fg : pal.accent;
    if (h.sort) {
      const mark = `${h.sort.dir === 'asc' ? '▲' : '▼'}${h.sort.rank ?? ''}`;
      const w = ctx.measureText(mark).width;
      ctx.fillStyle = markColor;
      ctx.fillText(mark, right - w, rect.y + 14);
      right -= w + 4;
    }
    if (h.filtered) {
      // A small funnel (font glyphs for it are missing on many systems).
      const x = right - 9;
      const y = rect.y + 9;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + 9, y);
      ctx.lineTo(x + 5.5, y + 4.5);
      ctx.lineTo(x + 5.5, y + 9);
      ctx.lineTo(x + 3.5, y + 8);
      ctx.lineTo(x + 3.5, y + 4.5);
      ctx.closePath();
      ctx.fillStyle = markColor;
      ctx.fill();
      right -= 13;
    }
    ctx.fillStyle = fg;
    ctx.fillText(fit(ctx, h.name, right - rect.x - pad), rect.x + pad, rect.y + 14);

    ctx.font = `11px ${pal.fontUi}`;
    ctx.fillStyle = sub;
    ctx.fillText(fit(ctx, headerDetail(h), rect.x + rect.width - pad - menuW - rect.x - pad), rect.x + pad, rect.y + 30);

    if (menuW > 0) {
      // The menu triangle glide would draw; ours replaces glide's whole header drawing.
      const cx = menuBounds.x + menuBounds.width / 2;
      const cy = menuBounds.y + menuBounds.height / 2;
      ctx.beginPath();
      ctx.moveTo(cx - 5, cy - 2.5);
      ctx.lineTo(cx + 5, cy - 2.5);
      ctx.lineTo(cx, cy + 3);
      ctx.closePath();
      ctx.fillStyle = fg;
      ctx.fill();
    }
  };
}

/** Room a header keeps beside the name: both paddings, the menu button (shown on hover) and a sort mark. */
export const HEADER_NAME_EXTRA = 16 + 30 + 18;
/** The filter funnel, when the column is filtered. */
const FUNNEL_W = 13;

/** A starting width that fits the name and the detail line, within sane bounds. */
export function headerWidth(h: HeaderInfo, sample = ''): number {
  // The detail line may be cut (the status line and stats route have it whole); names and values
  // may not, not even with the sort mark and the hovered menu button beside the name.
  const name = h.name.length * 7.5 + HEADER_NAME_EXTRA + (h.filtered ? FUNNEL_W : 0);
  const px = Math.max(name, sample.length * 7 + 24, Math.min(headerDetail(h).length * 6 + 20, 200));
  return Math.round(Math.min(320, Math.max(70, px)));
}

/** The longest of the first `max` display texts of a column (for its starting width). */
export function longestSample(rows: number, text: (row: number) => string | null | undefined, max = 20): string {
  let best = '';
  for (let r = 0; r < Math.min(rows, max); r++) {
    const t = text(r) ?? '';
    if (t.length > best.length) best = t;
  }
  return best;
}
