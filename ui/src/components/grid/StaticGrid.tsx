import { DataEditor, type GridCell, type GridColumn, type Item } from '@glideapps/glide-data-grid';
import { useCallback, useMemo, useState } from 'react';
import { textCell } from './cells';
import { shortFloat } from './arrowValues';
import { HEADER_HEIGHT, headerWidth, longestSample, type HeaderInfo } from './header';
import { isNumericType, jsonCellText } from './jsonValues';
import { useGridLook } from './useGridLook';
import './grid.css';

export const ROW_HEIGHT = 24;

export interface StaticGridProps {
  /** Columns in order, as a preview returns them. */
  schema: { name: string; type: string }[];
  /** The rows a preview or JSON page returns (values already JSON: numbers, strings, null…). */
  rows: Record<string, unknown>[];
  /** Changes when the app theme changes, so the canvas re-reads the CSS colours. */
  themeKey: string;
  testId?: string;
  /** Most pixels the grid may take; it shrinks to fit fewer rows. */
  maxHeight?: number;
}

/**
 * A small in-memory grid (notebook previews): the same look as the paged output grid, with
 * copy (Ctrl+C on a selection gives TSV). Everything is in `rows`, so no paging.
 */
export function StaticGrid({ schema, rows, themeKey, testId, maxHeight = 320 }: StaticGridProps) {
  const [widths, setWidths] = useState<Record<string, number>>({});
  const info: HeaderInfo[] = useMemo(() => schema.map((c) => ({ name: c.name, type: c.type })), [schema]);
  const { palette, editorProps } = useGridLook(themeKey, info);

  const numeric = useMemo(() => schema.map((c) => isNumericType(c.type)), [schema]);
  const isFloat = useMemo(() => schema.map((c) => /^f\d+$/.test(c.type)), [schema]);
  // Floats show at most 10 significant digits; copy keeps the full value.
  const display = useCallback(
    (col: number, row: number): string | null => {
      const v = rows[row]?.[schema[col]?.name ?? ''];
      return isFloat[col] && typeof v === 'number' ? shortFloat(v) : jsonCellText(v);
    },
    [rows, schema, isFloat],
  );
  const columns: GridColumn[] = useMemo(
    () =>
      info.map((h, i) => ({
        id: h.name,
        title: h.name,
        width: widths[h.name] ?? headerWidth(h, longestSample(rows.length, (r) => display(i, r))),
      })),
    [info, widths, rows.length, display],
  );

  const getCellContent = useCallback(
    ([col, row]: Item): GridCell => {
      const name = schema[col]?.name ?? '';
      return textCell(jsonCellText(rows[row]?.[name]), numeric[col] ?? false, palette.faint, display(col, row) ?? undefined);
    },
    [schema, rows, numeric, palette, display],
  );

  // Header + rows + room for a horizontal scrollbar, capped.
  const height = Math.min(maxHeight, HEADER_HEIGHT + Math.max(1, rows.length) * ROW_HEIGHT + 14);

  if (schema.length === 0) {
    return (
      <div className="pg-empty" data-testid={testId}>
        No columns.
      </div>
    );
  }
  return (
    <div className="pg-static" data-testid={testId} data-rows={rows.length} style={{ height }}>
      <DataEditor
        {...editorProps}
        columns={columns}
        rows={rows.length}
        rowHeight={ROW_HEIGHT}
        getCellContent={getCellContent}
        getCellsForSelection
        onColumnResize={(c, w) => setWidths((prev) => ({ ...prev, [String(c.id)]: w }))}
        rowMarkers="number"
      />
    </div>
  );
}
