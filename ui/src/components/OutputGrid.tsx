// The output panel's grid: one task output (or a dataset's rows), virtualized over paged Arrow IPC, with server-side
// sort and filter, header stats, copy, export and a status line. Data lives in PagedSource (one
// per view); this component wires it to glide-data-grid and keeps the view state.
import {
  CompactSelection,
  DataEditor,
  type DataEditorRef,
  type GridCell,
  type GridColumn,
  type GridSelection,
  type HeaderClickedEventArgs,
  type Item,
  type Rectangle,
} from '@glideapps/glide-data-grid';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  canExport,
  exportView,
  fetchArrowRange,
  fetchStats,
  isDatasetRef,
  sourceKey,
  sourceName,
  type ColumnStats,
  type ExportFormat,
  type OutputRef,
} from '../api/arrowPages';
import { ApiError, type ApiClient } from '../api/client';
import { LOADING_CELL, textCell } from './grid/cells';
import { ExportMenu } from './grid/ExportMenu';
import { FilterBar } from './grid/FilterBar';
import { headerDetail, headerWidth, longestSample, type HeaderInfo } from './grid/header';
import { HeaderMenu } from './grid/HeaderMenu';
import { PagedSource } from './grid/pagedSource';
import { StatusLine } from './grid/StatusLine';
import { buildTsv, copyRegion, copyTooBig, regionCells } from './grid/tsv';
import { useGridLook } from './grid/useGridLook';
import { EMPTY_VIEW, nextSort, setSort, viewKey, viewQuery, type SortDir, type ViewSpec } from './grid/viewQuery';
import type { TaskFailure } from './outputFailure';
import './grid/grid.css';

/** A task's output (of one run, or its newest) or a dataset's rows: same routes' shape, same view queries. */
export type OutputSource = OutputRef;

const ROW_HEIGHT = 24;
const fmt = new Intl.NumberFormat('en-US');
const EMPTY_SELECTION: GridSelection = { columns: CompactSelection.empty(), rows: CompactSelection.empty() };
const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Row-number column wide enough for the last row's number (glide's default cuts 8 digits):
 * `digitPx` is a digit's width in glide's marker font (9px), measured; 7 px at least.
 */
export function markerWidth(rows: number, digitPx = 7): number {
  return Math.ceil(14 + String(Math.max(1, rows)).length * Math.max(7, digitPx));
}

/** A digit's width in glide's row-marker font (its theme's `markerFontStyle`, 9px) in `font`. */
function markerDigitPx(font: string): number {
  const ctx = typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d');
  if (!ctx) return 7;
  ctx.font = `9px ${font}`;
  return ctx.measureText('0000000000').width / 10 + 0.5;
}

/** Why a task has no output in the run shown (it failed, or did not run), and how to open the log that explains it. */
export interface OutputFailure extends TaskFailure {
  /** Opens the log of `logTask` (the Log tab: error, failing line, log). */
  onShowLog: () => void;
}

type Load =
  | { kind: 'loading' }
  | { kind: 'no-output'; message: string }
  | { kind: 'error'; message: string }
  | { kind: 'ready' };

export function OutputGrid(props: {
  client: ApiClient;
  source: OutputSource;
  themeKey: string;
  /** A change reloads the rows in place, keeping sort and filters (e.g. a dataset was flushed). */
  refreshKey?: number;
  /** Shown in the grid's bar after the source's name (e.g. a dataset's toggles). */
  barExtra?: ReactNode;
  /** The task did not succeed in the run shown: said instead of "No output yet" when it has no output. */
  failure?: OutputFailure | null;
}) {
  const { client, themeKey, refreshKey, barExtra, failure } = props;
  // One object per output (the caller may pass a new one each render): effects that fetch
  // re-run only when the output changes, or when the caller asks for a reload.
  const key = sourceKey(props.source);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed by the source's identity (and refreshKey), not by the object
  const source = useMemo<OutputSource>(() => props.source, [key, refreshKey]);
  const dataset = isDatasetRef(source);
  const gridRef = useRef<DataEditorRef>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<ViewSpec>(EMPTY_VIEW);
  const vkey = viewKey(view);

  // The source on screen stays until the next view's first page is in (no blank flash on sort).
  const [shown, setShown] = useState<PagedSource | null>(null);
  const shownRef = useRef<PagedSource | null>(null);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [baseTotal, setBaseTotal] = useState<number | null>(null);
  // Whether the view on screen is filtered (the next view may differ while it loads).
  const [shownFiltered, setShownFiltered] = useState(false);
  const [stats, setStats] = useState<Map<string, ColumnStats> | null>(null);
  const [widths, setWidths] = useState<Record<string, number>>({});
  const [selection, setSelection] = useState<GridSelection>(EMPTY_SELECTION);
  const [menu, setMenu] = useState<{ col: number; x: number; y: number } | null>(null);
  const [filterDraft, setFilterDraft] = useState<{ column: string } | null>(null);
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);
  const [exporting, setExporting] = useState(false);
  const visible = useRef<Rectangle>({ x: 0, y: 0, width: 1, height: 40 });

  // A new view (or output): a new PagedSource with its own cache and row count.
  useEffect(() => {
    const query = viewQuery(view);
    const ps = new PagedSource({ fetchRange: (o, l, s) => fetchArrowRange(client, source, query, o, l, s) });
    const ctrl = new AbortController();
    setLoad({ kind: 'loading' });
    ps.start(ctrl.signal).then(
      () => {
        if (ctrl.signal.aborted) return;
        const old = shownRef.current;
        shownRef.current = ps;
        setShown(ps);
        old?.dispose();
        setLoad({ kind: 'ready' });
        setShownFiltered(view.filters.length > 0);
        if (view.filters.length === 0) setBaseTotal(ps.total);
        setSelection(EMPTY_SELECTION);
        gridRef.current?.scrollTo(0, 0, 'vertical');
        ps.setVisible(0, visible.current.height);
      },
      (e: unknown) => {
        ps.dispose();
        if (ctrl.signal.aborted) return;
        if (e instanceof ApiError && e.status === 404 && view.filters.length === 0 && view.sort.length === 0) {
          setLoad({ kind: 'no-output', message: e.message });
        } else {
          setLoad({ kind: 'error', message: msg(e) });
        }
      },
    );
    return () => ctrl.abort(); // a source that made it to the screen is disposed when replaced
    // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed by vkey: filter drafts that change no query keep the pages
  }, [client, source, vkey]);

  useEffect(
    () => () => {
      shownRef.current?.dispose();
      shownRef.current = null;
    },
    [],
  );

  // Stats describe the whole output: fetched once per output, after its first page is on screen.
  const haveShown = shown !== null;
  useEffect(() => {
    if (!haveShown) return;
    const ctrl = new AbortController();
    fetchStats(client, source, ctrl.signal).then(
      (s) => setStats(new Map(s.map((c) => [c.name, c]))),
      () => undefined, // headers then show the type only
    );
    return () => ctrl.abort();
  }, [client, source, haveShown]);

  // Arrived pages repaint the visible cells they cover.
  useEffect(() => {
    if (!shown) return;
    const offLoad = shown.onLoad(({ rows: [a, b] }) => {
      const r = visible.current;
      const from = Math.max(a, r.y);
      const to = Math.min(b, r.y + r.height + 1);
      if (from >= to) return;
      const cells: { cell: Item }[] = [];
      for (let y = from; y < to; y++) for (let x = r.x; x < r.x + r.width; x++) cells.push({ cell: [x, y] });
      gridRef.current?.updateCells(cells);
    });
    const offErr = shown.onError((e) => setNotice({ text: `Loading rows failed: ${msg(e)}`, error: true }));
    return () => {
      offLoad();
      offErr();
    };
  }, [shown]);

  const names = useMemo(() => shown?.names ?? [], [shown]);

  const headers: HeaderInfo[] = useMemo(() => {
    if (!shown) return [];
    return shown.names.map((name, i) => {
      const st = stats?.get(name);
      const k = view.sort.findIndex((s) => s.column === name);
      return {
        name,
        type: st?.type ?? shown.formats[i]?.label ?? '',
        stats: st ? { nullCount: st.null_count, min: st.min, max: st.max } : undefined,
        sort: k >= 0 ? { dir: view.sort[k]!.dir, rank: view.sort.length > 1 ? k + 1 : null } : undefined,
        filtered: view.filters.some((f) => f.column === name),
      };
    });
  }, [shown, stats, view]);

  const { palette, editorProps } = useGridLook(themeKey, headers);
  const digitPx = useMemo(() => markerDigitPx(palette.fontUi), [palette]);

  const columns: GridColumn[] = useMemo(
    () =>
      headers.map((h, i) => ({
        id: h.name,
        title: h.name,
        hasMenu: true,
        width: widths[h.name] ?? headerWidth(h, shown ? longestSample(shown.total, (r) => shown.display(i, r)) : ''),
      })),
    [headers, widths, shown],
  );

  const getCellContent = useCallback(
    ([col, row]: Item): GridCell => {
      const ps = shownRef.current;
      const text = ps?.text(col, row);
      if (!ps || text === undefined) return LOADING_CELL;
      const f = ps.formats[col];
      return textCell(text, f?.alignRight ?? false, palette.faint, ps.display(col, row) ?? undefined);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `shown` is read via shownRef; a new callback makes glide repaint all cells on a new view
    [shown, palette],
  );

  // A click in the grid right after a scroll can leave the focus where it was (e.g. on the DAG
  // canvas, whose keys would then act on a node): take it, so keys go to the grid.
  const onSelectionChange = useCallback((s: GridSelection) => {
    setSelection(s);
    if (!boxRef.current?.contains(document.activeElement)) gridRef.current?.focus();
  }, []);

  const onVisibleRegionChanged = useCallback((range: Rectangle) => {
    visible.current = range;
    shownRef.current?.setVisible(range.y, range.height);
  }, []);

  const changeView = useCallback((next: (v: ViewSpec) => ViewSpec) => {
    setNotice(null);
    setView(next);
  }, []);

  // A plain header click sorts (shift adds a key); Ctrl/Cmd-click keeps glide's column selection.
  const onHeaderClicked = useCallback(
    (col: number, e: HeaderClickedEventArgs) => {
      if (e.ctrlKey || e.metaKey) return;
      const name = shownRef.current?.names[col];
      if (name === undefined) return;
      setSelection(EMPTY_SELECTION);
      changeView((v) => ({ ...v, sort: nextSort(v.sort, name, e.shiftKey) }));
    },
    [changeView],
  );

  const onHeaderMenuClick = useCallback((col: number, bounds: Rectangle) => {
    setMenu({ col, x: bounds.x + bounds.width - 160, y: bounds.y + bounds.height });
  }, []);

  // Copy: our own TSV (glide's copy would ask a 10M-row column cell by cell). Cached rows copy at
  // once through the event; others are fetched first and written with the async clipboard API.
  const selectionRef = useRef(selection);
  selectionRef.current = selection;
  useEffect(() => {
    const onCopy = (e: ClipboardEvent) => {
      const ps = shownRef.current;
      if (!ps || !boxRef.current?.contains(document.activeElement)) return;
      if (document.activeElement instanceof HTMLInputElement || document.activeElement instanceof HTMLSelectElement) return;
      const sel = selectionRef.current;
      const region = copyRegion(
        { range: sel.current?.range, rows: sel.rows.items, columns: sel.columns.items },
        ps.total,
        ps.names.length,
      );
      if (!region) return;
      e.preventDefault();
      const tooBig = copyTooBig(region);
      if (tooBig) {
        setNotice({ text: tooBig, error: true });
        return;
      }
      const n = regionCells(region);
      const done = `Copied ${fmt.format(n)} cell${n === 1 ? '' : 's'} as TSV`;
      const cached = region.rows.every(([a, b]) => {
        for (let r = a; r < b; r += ps.pageSize) if (!ps.pageAt(r)) return false;
        return b <= a || !!ps.pageAt(b - 1);
      });
      if (cached && e.clipboardData) {
        e.clipboardData.setData('text/plain', buildTsv(region, (r, c) => ps.text(c, r) ?? null));
        setNotice({ text: done });
        return;
      }
      setNotice({ text: `Copying ${fmt.format(n)} cells…` });
      ps.rowsFor(region.rows)
        .then((cell) => navigator.clipboard.writeText(buildTsv(region, cell)))
        .then(
          () => setNotice({ text: done }),
          (err: unknown) => setNotice({ text: `Copy failed: ${msg(err)}`, error: true }),
        );
    };
    window.addEventListener('copy', onCopy);
    return () => window.removeEventListener('copy', onCopy);
  }, []);

  const onExport = useCallback(
    (format: ExportFormat) => {
      setExporting(true);
      setNotice({ text: `Exporting the view as ${format.toUpperCase()}…` });
      exportView(client, source, viewQuery(view), format)
        .then(
          (saved) => setNotice(saved ? { text: `Exported ${sourceName(source)}.${format}` } : null),
          (e: unknown) => setNotice({ text: `Export failed: ${msg(e)}`, error: true }),
        )
        .finally(() => setExporting(false));
    },
    [client, source, view],
  );

  const menuColumn = menu ? names[menu.col] : undefined;
  const menuSort: SortDir | null = view.sort.find((s) => s.column === menuColumn)?.dir ?? null;
  const total = shown?.total ?? 0;
  const markerPx = markerWidth(total, digitPx);
  // A view the runner refused (a bad filter) has no count: the last good view's would be stale.
  // While a view loads, the count is the one on screen (with "updating…" beside it).
  const totalText = !shown || load.kind === 'error'
    ? ''
    : shownFiltered && baseTotal !== null
      ? `${fmt.format(total)} of ${fmt.format(baseTotal)} rows`
      : `${fmt.format(total)} rows`;

  return (
    <div
      className="output pg-output"
      data-testid="output-grid"
      data-rows={total}
      data-sort={viewQuery(view).sort ?? ''}
      data-filter={viewQuery(view).filter ?? ''}
      // What the canvas-painted headers say, as text (for tests and a look without the canvas).
      data-headers={headers.map((h) => `${h.name}: ${headerDetail(h)}`).join('\n')}
      data-marker-width={markerPx}
      ref={boxRef}
    >
      <div className="output-bar">
        <span className="mono">{sourceName(source)}</span>
        <span className="muted">
          {isDatasetRef(source)
            ? source.includeUnflushed
              ? 'flushed and waiting rows'
              : 'flushed rows'
            : source.runId != null
              ? `run #${source.runId}`
              : 'newest output'}
        </span>
        {barExtra}
        {(shown || view.filters.length > 0) && (
          <FilterBar
            columns={names}
            filters={view.filters}
            onChange={(filters) => changeView((v) => ({ ...v, filters }))}
            draft={filterDraft}
            onDraftClose={() => setFilterDraft(null)}
          />
        )}
        <span className="spacer" />
        {load.kind === 'loading' && shown && <span className="muted">updating…</span>}
        <span data-testid="output-total" data-total={shown && load.kind === 'ready' ? total : ''} data-base-total={baseTotal ?? ''}>
          {totalText}
        </span>
        {shown && canExport(source) && <ExportMenu onExport={onExport} busy={exporting} />}
      </div>
      {load.kind === 'no-output' && failure && <FailureState failure={failure} />}
      {load.kind === 'no-output' && !failure && (
        <div className="pg-state" data-testid="grid-empty">
          <div className="pg-state-title">{dataset ? 'No rows' : 'No output yet'}</div>
          <div className="muted">{dataset ? 'The runner does not serve this dataset.' : "Run the pipeline to see this task's output."}</div>
          <div className="pg-state-detail">{load.message}</div>
        </div>
      )}
      {load.kind === 'error' && (
        <div className="pg-state" data-testid="grid-error">
          <div className="error-box small">{load.message}</div>
          {view.filters.length + view.sort.length > 0 && (
            <button className="pg-link" onClick={() => changeView(() => EMPTY_VIEW)}>
              Clear sort and filters
            </button>
          )}
        </div>
      )}
      {load.kind === 'loading' && !shown && <div className="muted pad">Loading output…</div>}
      {shown && load.kind !== 'error' && shown.names.length === 0 && <div className="pg-state">This output has no columns.</div>}
      {shown && load.kind !== 'error' && shown.names.length > 0 && (
        <>
          <div className="grid-wrap">
            {total === 0 && (
              <div className="pg-overlay" data-testid="grid-no-rows">
                {shownFiltered
                  ? 'No rows match the filters.'
                  : dataset
                    ? source.includeUnflushed
                      ? 'This dataset has no rows yet.'
                      : 'No rows flushed yet: flush now, or include rows not flushed yet.'
                    : 'This output has no rows.'}
              </div>
            )}
            <DataEditor
              {...editorProps}
              ref={gridRef}
              columns={columns}
              rows={total}
              rowHeight={ROW_HEIGHT}
              getCellContent={getCellContent}
              onVisibleRegionChanged={onVisibleRegionChanged}
              onHeaderClicked={onHeaderClicked}
              onHeaderMenuClick={onHeaderMenuClick}
              onHeaderContextMenu={(col, e) => {
                // A right-click on a header opens its menu too.
                e.preventDefault();
                onHeaderMenuClick(col, e.bounds);
              }}
              onColumnResize={(col, w) => setWidths((prev) => ({ ...prev, [String(col.id)]: w }))}
              gridSelection={selection}
              onGridSelectionChange={onSelectionChange}
              keybindings={{ copy: false, search: false }}
              rowMarkers={{ kind: 'number', width: markerPx }}
            />
          </div>
          <StatusLine source={shown} cell={selection.current?.cell} names={names} notice={notice} />
        </>
      )}
      {menu && menuColumn !== undefined && (
        <HeaderMenu
          column={menuColumn}
          at={{ x: Math.max(4, menu.x), y: menu.y }}
          sorted={menuSort}
          onClose={() => setMenu(null)}
          actions={{
            sort: (dir) => changeView((v) => ({ ...v, sort: setSort(v.sort, menuColumn, dir) })),
            filter: () => setFilterDraft({ column: menuColumn }),
            selectColumn: () =>
              setSelection({ columns: CompactSelection.fromSingleSelection(menu.col), rows: CompactSelection.empty() }),
          }}
        />
      )}
    </div>
  );
}

/** A task without output because it failed (or did not run) in the run shown: why, and its log. */
function FailureState({ failure }: { failure: OutputFailure }) {
  const { status, runId, error, upstream } = failure;
  const title =
    status === 'failed'
      ? `Failed in run #${runId}`
      : status === 'upstream_failed'
        ? `Not run in run #${runId}: ${upstream?.length ? `${upstream.join(', ')} failed upstream` : 'an upstream task failed'}`
        : status === 'cancelled'
          ? `Cancelled in run #${runId}`
          : `No output in run #${runId} (${status.replace('_', ' ')})`;
  return (
    <div className="pg-state pg-failure" data-testid="output-failure" data-status={status}>
      <div className="pg-state-title">{title}</div>
      {error && (
        <pre className="task-error pg-failure-error" data-testid="output-failure-error">
          {error}
        </pre>
      )}
      <button className="link" onClick={failure.onShowLog} data-testid="output-failure-log">
        {status === 'failed' ? 'Show the error and the log →' : `Show the log of ${failure.logTask} →`}
      </button>
    </div>
  );
}
