// The one Python tokenizer of the UI: lexical classes with their offsets, losslessly (the texts of
// all tokens give back the code). Completion asks whether the cursor is in a string or comment,
// error location finds string literals, the runs view colours a failed task's code. Not a parser:
// the task's own Python reports syntax errors.

export type PyTokenKind = 'word' | 'string' | 'number' | 'comment' | 'punct' | 'space';

export interface PyToken {
  kind: PyTokenKind;
  /** The raw text, prefix and quotes included. */
  text: string;
  /** [start, end) offsets in the code. */
  start: number;
  end: number;
}

// Tried in order at each offset; the last one always matches one character. Strings may carry a
// prefix (r, b, f, rb, …). Unterminated strings run to the end of their line (triple-quoted ones
// to the end of the text): the user is still typing them.
const PREFIX = '(?:[rRbBuUfF]{1,2})?';
const RULES: [PyTokenKind, RegExp][] = [
  ['space', /\s+/y],
  ['comment', /#[^\n]*/y],
  ['string', new RegExp(`${PREFIX}("""|''')[\\s\\S]*?(?:\\1|$)`, 'y')],
  ['string', new RegExp(`${PREFIX}"(?:[^"\\\\\\n]|\\\\.)*(?:"|(?=\\n)|$)`, 'y')],
  ['string', new RegExp(`${PREFIX}'(?:[^'\\\\\\n]|\\\\.)*(?:'|(?=\\n)|$)`, 'y')],
  ['number', /(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[jJ]?/y],
  ['word', /[\p{L}_][\p{L}\p{N}_]*/uy],
  ['punct', /[\s\S]/y],
];

/** Python's reserved words (plus the soft ones a highlighter colours too). */
export const PY_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from ' +
    'global if import in is lambda nonlocal not or pass raise return try while with yield match case'
  ).split(' '),
);

/** Every token of `code`, whitespace and comments included. */
export function tokenizePython(code: string): PyToken[] {
  const out: PyToken[] = [];
  let pos = 0;
  while (pos < code.length) {
    for (const [kind, re] of RULES) {
      re.lastIndex = pos;
      const m = re.exec(code);
      if (!m || m[0].length === 0) continue;
      out.push({ kind, text: m[0], start: pos, end: pos + m[0].length });
      pos += m[0].length;
      break;
    }
  }
  return out;
}

/** A string token's quote (`"`, `'`, `"""` or `'''`) and where its contents start and end. */
export function stringParts(t: PyToken): { quote: string; contentStart: number; contentEnd: number; closed: boolean } {
  const m = /^[rRbBuUfF]*("""|'''|"|')/.exec(t.text)!;
  const quote = m[1]!;
  const contentStart = t.start + m[0].length;
  const closed = t.text.length >= m[0].length + quote.length && t.text.endsWith(quote);
  return { quote, contentStart, contentEnd: closed ? t.end - quote.length : t.end, closed };
}

/** The text of a string literal without prefix and quotes (escapes left as written). */
export function stringValue(t: PyToken): string {
  const p = stringParts(t);
  return t.text.slice(p.contentStart - t.start, p.contentEnd - t.start);
}

/**
 * The parameter names of every `def name(…)` in the code, by function name. Annotations,
 * defaults and `*`/`**` are dropped; `self` is kept (callers filter by what they know).
 */
export function functionParams(code: string): Map<string, string[]> {
  const toks = tokenizePython(code).filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  const out = new Map<string, string[]>();
  for (let i = 0; i + 2 < toks.length; i++) {
    if (!(toks[i]!.kind === 'word' && toks[i]!.text === 'def' && toks[i + 1]!.kind === 'word' && toks[i + 2]!.text === '(')) continue;
    const params: string[] = [];
    let depth = 0;
    let expectName = true;
    for (let j = i + 3; j < toks.length; j++) {
      const t = toks[j]!;
      if (t.text === '(' || t.text === '[' || t.text === '{') depth++;
      else if (t.text === ')' || t.text === ']' || t.text === '}') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && t.text === ',') expectName = true;
      else if (depth === 0 && expectName && t.kind === 'word') {
        params.push(t.text);
        expectName = false;
      } else if (depth === 0 && t.text !== '*') expectName = false;
    }
    if (!out.has(toks[i + 1]!.text)) out.set(toks[i + 1]!.text, params);
  }
  return out;
}
