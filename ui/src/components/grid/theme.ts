import type { Theme } from '@glideapps/glide-data-grid';

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Colours the grid needs besides glide's theme (nulls, header second line, sort marks). */
export interface GridPalette {
  faint: string;
  muted: string;
  accent: string;
  fontUi: string;
  fontMono: string;
}

/**
 * Glide's theme from the app's CSS variables. Glide paints on a canvas, so it cannot follow CSS
 * variables by itself: callers re-read this when the theme changes (memo on the theme key).
 */
export function gridTheme(): Partial<Theme> {
  return {
    accentColor: cssVar('--accent'),
    accentLight: cssVar('--accent-soft'),
    textDark: cssVar('--fg'),
    textMedium: cssVar('--fg-muted'),
    textLight: cssVar('--fg-muted'),
    textHeader: cssVar('--fg'),
    textHeaderSelected: '#ffffff',
    bgCell: cssVar('--bg'),
    bgCellMedium: cssVar('--bg-alt'),
    bgHeader: cssVar('--bg-alt'),
    bgHeaderHasFocus: cssVar('--bg-hover'),
    bgHeaderHovered: cssVar('--bg-hover'),
    bgBubble: cssVar('--bg-alt'),
    borderColor: cssVar('--border'),
    horizontalBorderColor: cssVar('--border'),
    drilldownBorder: cssVar('--border'),
    linkColor: cssVar('--accent'),
    fontFamily: cssVar('--font-ui'),
    baseFontStyle: '12px',
    headerFontStyle: '600 12px',
    cellHorizontalPadding: 8,
    cellVerticalPadding: 3,
  };
}

export function gridPalette(): GridPalette {
  return {
    faint: cssVar('--fg-faint'),
    muted: cssVar('--fg-muted'),
    accent: cssVar('--accent'),
    fontUi: cssVar('--font-ui'),
    fontMono: cssVar('--font-mono'),
  };
}
