// Monaco, bundled locally (never from a CDN): the editor core, its features, the SQL and Python
// languages (Monarch tokenizers) and the editor worker. Imported only through loadMonaco() so Vite
// splits it out of the main bundle.
import * as monaco from 'monaco-editor/editor';
import 'monaco-editor/features/register.all';
import 'monaco-editor/languages/definitions/sql/register';
import 'monaco-editor/languages/definitions/python/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { completionContextFor } from './completionSource';
import { completePython } from './pythonCompletion';
import { completeSql, type CompletionContext, type CompletionResult } from './sqlCompletion';

// Neither language has a language worker: the editor worker serves everything.
self.MonacoEnvironment = { getWorker: () => new EditorWorker() };

// Backgrounds match styles.css (--bg) so cells blend into the notebook in both themes.
monaco.editor.defineTheme('polder-light', {
  base: 'vs',
  inherit: true,
  rules: [],
  colors: { 'editor.background': '#ffffff', 'editorLineNumber.foreground': '#a4abb5', 'editorGutter.background': '#fafbfc' },
});
monaco.editor.defineTheme('polder-dark', {
  base: 'vs-dark',
  inherit: true,
  rules: [],
  colors: { 'editor.background': '#1b1e23', 'editorLineNumber.foreground': '#5d6571', 'editorGutter.background': '#1f2228' },
});

const KIND = {
  table: monaco.languages.CompletionItemKind.Class,
  column: monaco.languages.CompletionItemKind.Field,
  keyword: monaco.languages.CompletionItemKind.Keyword,
  word: monaco.languages.CompletionItemKind.Text,
} as const;

// Providers are global per language: register once, and find the cell from the model's uri.
function registerCompletion(
  language: string,
  triggerCharacters: string[],
  complete: (text: string, offset: number, ctx: CompletionContext) => CompletionResult,
) {
  monaco.languages.registerCompletionItemProvider(language, {
    triggerCharacters,
    provideCompletionItems(model, position) {
      const ctx = completionContextFor(model.uri);
      if (!ctx) return { suggestions: [] };
      const offset = model.getOffsetAt(position);
      const res = complete(model.getValue(), offset, ctx);
      const start = model.getPositionAt(res.from);
      const range = new monaco.Range(start.lineNumber, start.column, position.lineNumber, position.column);
      return {
        suggestions: res.suggestions.map((s) => ({
          label: s.label,
          kind: KIND[s.kind],
          detail: s.detail,
          insertText: s.insertText,
          sortText: s.sortText,
          range,
        })),
      };
    },
  });
}

registerCompletion('sql', ['.'], completeSql);
// In `pl.col(` a quote opens the column list; `(` offers the columns quoted.
registerCompletion('python', ['"', "'", '('], completePython);

export { monaco };
