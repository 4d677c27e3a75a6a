// What to suggest where in a Python cell: inside `pl.col("…")` the columns of the frames the
// task reads (its upstream tasks: the parameters of its functions that name tasks, and its saved
// upstreams); right after `pl.col(` the same columns, quoted; in code the pipeline's tasks with an
// output (naming one as a parameter reads it), then the names the code already uses (Monaco's own
// word list is not asked once a provider answers). Nothing in comments or other strings. Pure:
// the Monaco glue lives in setup.ts.
import { functionParams, PY_KEYWORDS, stringParts, tokenizePython, type PyToken } from '../python/tokens';
import { columnSuggestions, tableSuggestions, type CompletionContext, type CompletionResult, type Suggestion } from './sqlCompletion';

/** Where the cursor is, for completion. */
export type PythonSpot =
  /** In the string argument of `pl.col(…)`; `from` is where the string's text starts. */
  | { kind: 'col-string'; from: number }
  /** Right after `pl.col(` (spaces allowed), before any quote. */
  | { kind: 'col-open'; from: number }
  /** In code: `from` is where the word being typed starts. */
  | { kind: 'code'; from: number }
  /** In a comment or another string, right after the `(` of a call other than `pl.col(`, or right after a string. */
  | { kind: 'none'; from: number };

const significant = (t: PyToken) => t.kind !== 'space' && t.kind !== 'comment';

/** True when the significant tokens before index `i` end with `pl.col(` (or `polars.col(`, or a bare `col(`), allowing earlier string arguments. */
function afterColOpen(toks: PyToken[], i: number): boolean {
  let j = i - 1;
  // Earlier arguments: `pl.col("a", "b", |`.
  while (j >= 1 && toks[j]!.text === ',' && toks[j - 1]!.kind === 'string') j -= 2;
  if (toks[j]?.text !== '(' || toks[j - 1]?.text !== 'col' || toks[j - 1]?.kind !== 'word') return false;
  const dot = toks[j - 2];
  if (dot?.text !== '.') return true; // `col(` imported from polars
  const mod = toks[j - 3];
  return mod?.kind === 'word' && (mod.text === 'pl' || mod.text === 'polars');
}

/** What kind of place `offset` is in `code`. */
export function pythonSpot(code: string, offset: number): PythonSpot {
  const all = tokenizePython(code);
  // The token the cursor is in (or right at the end of).
  const at = all.find((t) => t.start < offset && offset <= t.end && t.kind !== 'space');
  const sig = all.filter(significant);
  if (at?.kind === 'comment') return { kind: 'none', from: offset };
  if (at?.kind === 'string') {
    const p = stringParts(at);
    const inside = offset >= p.contentStart && (offset <= p.contentEnd || !p.closed);
    // Right after a string's closing quote (a trigger character, typed) nothing is wanted.
    if (!inside) return { kind: offset === at.end ? 'none' : 'code', from: offset };
    const i = sig.indexOf(at);
    if (p.quote.length === 1 && afterColOpen(sig, i)) return { kind: 'col-string', from: p.contentStart };
    return { kind: 'none', from: offset };
  }
  let from = offset;
  while (from > 0 && /[\p{L}\p{N}_]/u.test(code[from - 1]!)) from--;
  // `pl.col(|` or `pl.col("a", |`: the significant tokens before the cursor end with it.
  const before = sig.filter((t) => t.end <= from);
  if (from === offset && afterColOpen(before, before.length)) return { kind: 'col-open', from };
  // Right after another call's `(` (typed: a trigger character) nothing is wanted, except in a
  // `def name(` where the parameters name the tasks read.
  const last = before.length - 1;
  if (from === offset && before[last]?.text === '(' && before[last - 2]?.text !== 'def') return { kind: 'none', from };
  return { kind: 'code', from };
}

/**
 * The tasks whose frames the code reads: parameters of its functions that name a known task (in
 * the order written), then the task's saved upstreams.
 */
export function framesRead(code: string, ctx: CompletionContext): string[] {
  const known = new Set(ctx.tables);
  const out: string[] = [];
  for (const params of functionParams(code).values()) for (const p of params) if (known.has(p) && !out.includes(p)) out.push(p);
  for (const t of ctx.defaultTables ?? []) if (!out.includes(t)) out.push(t);
  return out;
}

/** A Python string literal of `s` in double quotes. */
export function pyString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The names the code uses (not the one being typed at `from`, keywords or tasks), once each. */
function wordSuggestions(code: string, from: number, skip: Set<string>): Suggestion[] {
  const words = new Set<string>();
  for (const t of tokenizePython(code)) if (t.kind === 'word' && t.start !== from && !PY_KEYWORDS.has(t.text) && !skip.has(t.text)) words.add(t.text);
  return [...words].map((w) => ({ label: w, kind: 'word' as const, detail: '', insertText: w, sortText: `2${w}` }));
}

/** Suggestions for the cursor at `offset` in `code`. */
export function completePython(code: string, offset: number, ctx: CompletionContext): CompletionResult {
  const spot = pythonSpot(code, offset);
  switch (spot.kind) {
    case 'col-string':
    case 'col-open':
      // Inside a string the name goes in as it is; after `pl.col(` it is a string literal.
      return {
        from: spot.from,
        suggestions: columnSuggestions(framesRead(code, ctx), ctx, '0', spot.kind === 'col-open' ? pyString : (name) => name),
      };
    case 'code': {
      const tasks = tableSuggestions(ctx, '1', (name) => name);
      return { from: spot.from, suggestions: [...tasks, ...wordSuggestions(code, spot.from, new Set(ctx.tables))] };
    }
    case 'none':
      return { from: spot.from, suggestions: [] };
  }
}
