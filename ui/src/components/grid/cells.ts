import { GridCellKind, type GridCell } from '@glideapps/glide-data-grid';

export const LOADING_CELL: GridCell = { kind: GridCellKind.Loading, allowOverlay: false };

/**
 * A read-only text cell. `text` null is a SQL NULL: shown as a dimmed "null", copied as an empty
 * field (so a TSV paste gives an empty cell, not the word). `display` may shorten the text (long
 * floats); copy and the status line use `text`.
 */
export function textCell(text: string | null, alignRight: boolean, faintColor: string, display?: string): GridCell {
  if (text === null) {
    return {
      kind: GridCellKind.Text,
      data: '',
      displayData: 'null',
      allowOverlay: false,
      readonly: true,
      contentAlign: alignRight ? 'right' : 'left',
      themeOverride: { textDark: faintColor },
    };
  }
  return {
    kind: GridCellKind.Text,
    data: text,
    displayData: display ?? text,
    allowOverlay: true,
    readonly: true,
    contentAlign: alignRight ? 'right' : 'left',
  };
}
