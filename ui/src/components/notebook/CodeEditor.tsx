// One Monaco editor for one code cell (SQL or Python), mounted when the cell first nears the
// viewport and disposed with the cell. Its height follows the content up to a maximum, so a
// notebook of many cells scrolls as one page. The model's uri names the pipeline, task and
// language for completion.
import { useEffect, useRef, useState } from 'react';
import type * as MonacoApi from 'monaco-editor/editor';
import { cellUri, type CellLanguage } from '../../monaco/completionSource';
import { loadMonaco, ENGINE_MARKER_OWNER, type Monaco } from '../../monaco/loadMonaco';
import type { SqlRange } from '../../sql/errorLocation';

const LINE_H = 19;
const MIN_H = LINE_H * 2 + 12;
const MAX_H = LINE_H * 24 + 12;

/** An engine error to underline in the cell's text. */
export interface CodeMarker {
  range: SqlRange;
  message: string;
}

export interface CodeEditorProps {
  pipeline: string;
  task: string;
  /** Monaco's language (tokenizer and completion); fixed for the editor's life. */
  language: CellLanguage;
  /** The initial text; later edits are the editor's own, reported through onChange. */
  value: string;
  /** Bump to replace the editor's text with `value` (a change from outside, not typing). */
  valueVersion: number;
  theme: 'light' | 'dark';
  marker: CodeMarker | null;
  autoFocus?: boolean;
  /** Fill the height the cell gives it (a maximized cell) instead of following the content. */
  fill?: boolean;
  onChange: (text: string) => void;
  /** Shift+Enter. */
  onRun: () => void;
  /** Ctrl/Cmd+S. */
  onSave: () => void;
  onBlur: () => void;
  onFocus?: () => void;
}

export function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const [near, setNear] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const [mounted, setMounted] = useState(false);
  const [height, setHeight] = useState(() => estimateHeight(props.value));
  const monacoRef = useRef<Monaco | null>(null);
  const editorRef = useRef<MonacoApi.editor.IStandaloneCodeEditor | null>(null);
  const fitRef = useRef<() => void>(() => {});
  // Latest props for the editor's callbacks, which are bound once.
  const latest = useRef(props);
  latest.current = props;

  // Mount lazily: Monaco loads and the editor is created only once the cell is (nearly) visible.
  useEffect(() => {
    const el = host.current;
    if (!el || near) return;
    if (typeof IntersectionObserver === 'undefined') {
      setNear(true);
      return;
    }
    // The notebook's scroller is the root: a margin on the viewport would not reach past its clip.
    const root = el.closest('.notebook');
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setNear(true), { root, rootMargin: '400px 0px' });
    io.observe(el);
    // A new cell is wanted now: bring it into view (which also mounts it).
    if (latest.current.autoFocus) el.scrollIntoView({ block: 'nearest' });
    return () => io.disconnect();
  }, [near]);

  useEffect(() => {
    if (!near) return;
    let disposed = false;
    let cleanup = () => {};
    loadMonaco()
      .then((monaco) => {
        const el = host.current;
        if (disposed || !el) return;
        monacoRef.current = monaco;
        const p = latest.current;
        const uri = monaco.Uri.from(cellUri(p.pipeline, p.task, p.language));
        // A model left by an earlier mount of the same cell is reused (and then owned by this one).
        const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(p.value, p.language, uri);
        if (model.getValue() !== p.value) model.setValue(p.value);
        const editor = monaco.editor.create(el, {
          model,
          theme: p.theme === 'dark' ? 'polder-dark' : 'polder-light',
          fontSize: 12.5,
          lineHeight: LINE_H,
          fontFamily: getComputedStyle(document.documentElement).getPropertyValue('--font-mono').trim() || 'monospace',
          minimap: { enabled: false },
          scrollBeyondLastLine: false,
          overviewRulerLanes: 0,
          hideCursorInOverviewRuler: true,
          renderLineHighlightOnlyWhenFocus: true,
          folding: false,
          glyphMargin: false,
          lineNumbersMinChars: 3,
          lineDecorationsWidth: 6,
          // Python's convention is 4 spaces (and its indentation is syntax).
          tabSize: p.language === 'python' ? 4 : 2,
          padding: { top: 6, bottom: 6 },
          // Suggestions and hovers escape the cell's box instead of being clipped by it.
          fixedOverflowWidgets: true,
          scrollbar: { alwaysConsumeMouseWheel: false, verticalScrollbarSize: 8, horizontalScrollbarSize: 8 },
          automaticLayout: false,
        });
        editorRef.current = editor;

        const fit = () => {
          if (latest.current.fill) return editor.layout({ width: el.clientWidth, height: el.clientHeight });
          const h = Math.min(MAX_H, Math.max(MIN_H, editor.getContentHeight()));
          setHeight(h);
          editor.layout({ width: el.clientWidth, height: h });
        };
        fitRef.current = fit;
        const subs = [
          editor.onDidContentSizeChange(fit),
          model.onDidChangeContent(() => latest.current.onChange(model.getValue())),
          editor.onDidBlurEditorWidget(() => latest.current.onBlur()),
          editor.onDidFocusEditorWidget(() => latest.current.onFocus?.()),
        ];
        // Actions (unlike addCommand) are scoped to this editor, so cells do not steal each other's keys.
        editor.addAction({
          id: 'polder.preview',
          label: 'Preview cell',
          keybindings: [monaco.KeyMod.Shift | monaco.KeyCode.Enter],
          // With the suggestion list open, Shift+Enter keeps Monaco's meaning (accept the alternative).
          precondition: '!suggestWidgetVisible',
          run: () => {
            // A list may still be scheduled to open from the last keystroke: close it.
            editor.trigger('polder', 'hideSuggestWidget', null);
            latest.current.onRun();
          },
        });
        editor.addAction({
          id: 'polder.save',
          label: 'Save cell',
          keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS],
          run: () => latest.current.onSave(),
        });
        const ro = new ResizeObserver(() => editor.layout({ width: el.clientWidth, height: el.clientHeight }));
        ro.observe(el);
        fit();
        setMounted(true);
        applyMarker(monaco, model, latest.current.marker);
        if (latest.current.autoFocus) {
          const last = model.getLineCount();
          editor.setPosition({ lineNumber: last, column: model.getLineMaxColumn(last) });
          editor.focus();
        }
        cleanup = () => {
          ro.disconnect();
          subs.forEach((s) => s.dispose());
          editor.dispose();
          model.dispose();
          editorRef.current = null;
        };
      })
      .catch((e: unknown) => !disposed && setFailed(String((e as Error)?.message ?? e)));
    return () => {
      disposed = true;
      cleanup();
    };
  }, [near]);

  // Outside changes replace the text. Not keyed on `value` itself: while typing fast, `value`
  // lags the model by a render, and writing it back would drop keystrokes.
  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (model && model.getValue() !== latest.current.value) model.setValue(latest.current.value);
  }, [props.valueVersion]);

  // Maximized or back: the height follows the cell, or the content again.
  useEffect(() => fitRef.current(), [props.fill]);

  useEffect(() => {
    monacoRef.current?.editor.setTheme(props.theme === 'dark' ? 'polder-dark' : 'polder-light');
  }, [props.theme]);

  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (monacoRef.current && model) applyMarker(monacoRef.current, model, props.marker);
  }, [props.marker]);

  return (
    <div className="nb-editor" data-testid={`cell-editor-${props.task}`}>
      <div className="nb-editor-host" style={props.fill ? undefined : { height }}>
        {/* Monaco owns this element's children; React renders none into it. */}
        <div ref={host} className="nb-monaco" />
        {/* Until Monaco is mounted, the text shows as is (same height, no jump). */}
        {!mounted && <pre className="nb-editor-placeholder">{props.value}</pre>}
      </div>
      {failed && <div className="error-box small">Editor failed to load: {failed}</div>}
    </div>
  );
}

function estimateHeight(text: string): number {
  const lines = text.split('\n').length;
  return Math.min(MAX_H, Math.max(MIN_H, lines * LINE_H + 12));
}

function applyMarker(monaco: Monaco, model: MonacoApi.editor.ITextModel, marker: CodeMarker | null) {
  monaco.editor.setModelMarkers(
    model,
    ENGINE_MARKER_OWNER,
    marker
      ? [
          {
            severity: monaco.MarkerSeverity.Error,
            message: marker.message,
            startLineNumber: marker.range.line,
            startColumn: marker.range.column,
            endLineNumber: marker.range.endLine,
            endColumn: marker.range.endColumn,
            source: 'engine',
          },
        ]
      : [],
  );
}
