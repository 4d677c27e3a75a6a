import {
  DataEditor,
  GridCellKind,
  type DataEditorRef,
  type GridCell,
  type GridColumn,
  type Item,
  type Rectangle,
  type Theme,
} from '@glideapps/glide-data-grid';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ApiClient } from '../api/client';
import { PageCache } from '../api/pageCache';
import { formatCount } from '../api/runState';
import type { CellValue, ColumnSchema } from '../api/types';

export const PAGE_SIZE = 200;
const MAX_PAGES = 100;

type Row = Record<string, CellValue>;

const NUMERIC = /^(i|u|f)\d+$|^(int|float|double|decimal|numeric)/i;

function cellText(v: CellValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function gridTheme(): Partial<Theme> {
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
  };
}

export interface OutputSource {
  pipeline: string;
  task: string;
  runId: number | null;
}

export function OutputGrid({ client, source, themeKey }: { client: ApiClient; source: OutputSource; themeKey: string }) {
  const gridRef = useRef<DataEditorRef>(null);
  const key = `${source.pipeline}|${source.task}|${source.runId ?? 'latest'}`;
  const cache = useMemo(() => {
    void key;
    return new PageCache<Row>(PAGE_SIZE, MAX_PAGES);
  }, [key]);
  const [schema, setSchema] = useState<ColumnSchema[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [widths, setWidths] = useState<Record<string, number>>({});
  const visible = useRef<Rectangle>({ x: 0, y: 0, width: 0, height: 0 });
  const ctrlRef = useRef<AbortController | null>(null);
  const schemaRef = useRef<ColumnSchema[]>([]);

  const theme = useMemo(() => {
    void themeKey;
    return gridTheme();
  }, [themeKey]);

  const refreshVisible = useCallback(() => {
    const r = visible.current;
    const cells: { cell: Item }[] = [];
    const ncols = schemaRef.current.length;
    for (let y = r.y; y < r.y + r.height; y++) for (let x = 0; x < ncols; x++) cells.push({ cell: [x, y] });
    gridRef.current?.updateCells(cells);
  }, []);

  const fetchPage = useCallback(
    async (page: number, signal: AbortSignal) => {
      cache.markInFlight(page);
      try {
        const res = await client.getOutput(source, page * PAGE_SIZE, PAGE_SIZE, signal);
        if (signal.aborted) return null;
        cache.setPage(page, res.rows);
        return res;
      } catch (e) {
        cache.clearInFlight(page);
        throw e;
      }
    },
    [client, cache],
  );

  // First page: schema + total rows.
  useEffect(() => {
    ctrlRef.current?.abort();
    const ctrl = new AbortController();
    ctrlRef.current = ctrl;
    setSchema(null);
    setError(null);
    setTotal(0);
    fetchPage(0, ctrl.signal)
      .then((res) => {
        if (!res) return;
        schemaRef.current = res.schema;
        setSchema(res.schema);
        setTotal(res.total_rows);
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setError((e as Error)?.message ?? String(e));
      });
    return () => ctrl.abort();
  }, [fetchPage]);

  const loadVisible = useCallback(() => {
    const ctrl = ctrlRef.current;
    if (!ctrl) return;
    const r = visible.current;
    for (const p of cache.missingPages(r.y, Math.max(1, r.height), total, 1)) {
      fetchPage(p, ctrl.signal)
        .then((res) => res && refreshVisible())
        .catch((e: unknown) => {
          if (!ctrl.signal.aborted) setError((e as Error)?.message ?? String(e));
        });
    }
  }, [cache, total, fetchPage, refreshVisible]);

  const onVisibleRegionChanged = useCallback(
    (range: Rectangle) => {
      visible.current = range;
      loadVisible();
    },
    [loadVisible],
  );

  useEffect(() => {
    if (schema) loadVisible();
  }, [schema, loadVisible]);

  const columns: GridColumn[] = useMemo(
    () =>
      (schema ?? []).map((c) => ({
        id: c.name,
        title: `${c.name} · ${c.type}`,
        width: widths[c.name] ?? Math.min(260, Math.max(90, (c.name.length + c.type.length) * 8 + 24)),
      })),
    [schema, widths],
  );

  const getCellContent = useCallback(
    ([col, row]: Item): GridCell => {
      const c = schemaRef.current[col];
      const r = cache.getRow(row);
      if (!c || !r) return { kind: GridCellKind.Loading, allowOverlay: false };
      const v = r[c.name];
      const text = cellText(v);
      if (v === null || v === undefined) {
        return { kind: GridCellKind.Text, data: '', displayData: 'null', allowOverlay: false, themeOverride: { textDark: cssVar('--fg-faint') } };
      }
      return {
        kind: GridCellKind.Text,
        data: text,
        displayData: text,
        allowOverlay: true,
        readonly: true,
        contentAlign: NUMERIC.test(c.type) ? 'right' : 'left',
      };
    },
    [cache],
  );

  return (
    <div className="output" data-testid="output-grid" data-rows={total}>
      <div className="output-bar">
        <span className="mono">{source.task}</span>
        <span className="muted">{source.runId != null ? `run #${source.runId}` : 'newest output'}</span>
        <span className="spacer" />
        <span data-testid="output-total" data-total={schema ? total : ''}>
          {schema ? `${formatCount(total)} rows` : ''}
        </span>
      </div>
      {error && <div className="error-box small">{error}</div>}
      {!error && !schema && <div className="muted pad">Loading output…</div>}
      {schema && schema.length === 0 && <div className="empty pad">This output has no columns.</div>}
      {schema && schema.length > 0 && (
        <div className="grid-wrap">
          <DataEditor
            ref={gridRef}
            columns={columns}
            rows={total}
            rowHeight={26}
            headerHeight={30}
            getCellContent={getCellContent}
            onVisibleRegionChanged={onVisibleRegionChanged}
            onColumnResize={(col, w) => setWidths((prev) => ({ ...prev, [String(col.id)]: w }))}
            rowMarkers="number"
            smoothScrollX
            smoothScrollY
            getCellsForSelection
            theme={theme}
            width="100%"
            height="100%"
          />
        </div>
      )}
    </div>
  );
}
