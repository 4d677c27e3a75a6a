// Read-only Python highlighting (a failed task's code): the shared Python tokenizer's tokens,
// split into lines, with reserved words coloured as keywords. Same token classes as the SQL
// view's (`tk-<kind>`, runs.css), so markColumn marks the error's token in either.
import { PY_KEYWORDS, tokenizePython } from '../../python/tokens';
import type { HighlightKind, HighlightToken } from './sqlHighlight';

/** Tokens per line (strings spanning lines are split at the newlines). */
export function pythonLines(code: string): HighlightToken[][] {
  const lines: HighlightToken[][] = [[]];
  for (const t of tokenizePython(code.replace(/\r\n?/g, '\n'))) {
    const kind: HighlightKind = t.kind === 'word' ? (PY_KEYWORDS.has(t.text) ? 'keyword' : 'ident') : t.kind;
    t.text.split('\n').forEach((p, i) => {
      if (i > 0) lines.push([]);
      if (p) lines[lines.length - 1]!.push({ text: p, kind });
    });
  }
  return lines;
}
