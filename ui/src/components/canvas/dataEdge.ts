// What an edge means, and the text edits behind a data edge. dbt and Dagster users read an edge as
// "reads from": an edge is a data edge when the downstream task's SQL names the upstream table, its
// Python function takes the upstream as a parameter, or it is the `input` of a sink/validate task;
// it is an order-only edge ("runs after") when it comes from the task's `inputs` list.
//
// Drawing A → B on a SQL or Python task offers both: "read A in B" (a template query becomes
// `SELECT * FROM a`; a function gains the parameter `a`) or "run after A" (`inputs`). Removing a
// data edge cannot be done on the canvas: the message names the line of SQL (or code) to change.
import { pythonTemplate } from '../../python/template';
import { PY_KEYWORDS, tokenizePython, type PyToken } from '../../python/tokens';
import { edgeOrigin, pythonReads, type EdgeOrigin, type TaskInfo } from './taskSpec';
import type { Edge } from '../../api/types';

/** `data`: B reads A's output ("reads from"); `order`: B only runs after A (`inputs`). */
export type EdgeKind = 'data' | 'order';

export function edgeKind(edge: Edge, tasks: TaskInfo[]): EdgeKind {
  return edgeOrigin(edge, tasks) === 'inputs' ? 'order' : 'data';
}

// ---- SQL ----

/**
 * The SQL with comments and string literals blanked (same length, newlines kept, so offsets and
 * line numbers still hold); double-quoted identifiers lose their quotes (`"gold"` → ` gold `).
 */
export function sqlCode(sql: string): string {
  let out = '';
  let i = 0;
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  while (i < sql.length) {
    const c = sql[i]!;
    const two = sql.slice(i, i + 2);
    let end: number;
    if (two === '--') {
      end = sql.indexOf('\n', i);
      if (end < 0) end = sql.length;
      out += blank(sql.slice(i, end));
    } else if (two === '/*') {
      end = sql.indexOf('*/', i + 2);
      end = end < 0 ? sql.length : end + 2;
      out += blank(sql.slice(i, end));
    } else if (c === "'" || c === '"') {
      end = i + 1;
      for (; end < sql.length; end++) {
        if (sql[end] !== c) continue;
        if (sql[end + 1] === c) end++; // a doubled quote escapes itself
        else break;
      }
      end = Math.min(end + 1, sql.length);
      const body = sql.slice(i, end);
      const closed = body.length > 1 && body.endsWith(c);
      out += c === "'" ? blank(body) : ` ${body.slice(1, closed ? -1 : undefined)}${closed ? ' ' : ''}`;
    } else {
      out += c;
      end = i + 1;
    }
    i = end;
  }
  return out;
}

/**
 * Whether a query is still a placeholder: empty, or a SELECT of values that reads no table
 * (no FROM, no JOIN) — the `SELECT 1 AS x` a new SQL task starts with.
 */
export function isTemplateSql(sql: string): boolean {
  const code = sqlCode(sql).trim().replace(/;\s*$/, '').trim();
  if (!code) return true;
  if (code.includes(';')) return false;
  return /^select\b/i.test(code) && !/\b(from|join)\b/i.test(code);
}

// Words a task id may be (lower-case identifiers) that would not parse as a bare table name.
const SQL_RESERVED = new Set(
  ('all and any as asc between by case cast check collate column constraint create cross current default desc distinct do else end except ' +
    'false fetch for foreign from full grant group having in inner intersect into is join lateral left like limit natural not null offset ' +
    'on only or order outer primary references right select some table then to true union unique user using when where window with').split(' '),
);

/** A table name as SQL: quoted when it is a reserved word. */
export const sqlTable = (id: string) => (SQL_RESERVED.has(id) ? `"${id}"` : id);

/** The query that reads `table` in place of a template query (its leading comment lines kept); null when the query is not a template. */
export function readInSql(sql: string, table: string): string | null {
  if (!isTemplateSql(sql)) return null;
  const lines = sql.split('\n');
  const head: string[] = [];
  for (const l of lines) {
    if (/^\s*--/.test(l)) head.push(l);
    else break;
  }
  const query = `SELECT * FROM ${sqlTable(table)}`;
  return [...head, query].join('\n') + (sql.endsWith('\n') ? '\n' : '');
}

/** A place in a task's text: 1-based line and that line's text. */
export interface TextLine {
  line: number;
  text: string;
}

const lineAt = (text: string, offset: number): TextLine => {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const start = before.lastIndexOf('\n') + 1;
  const end = text.indexOf('\n', offset);
  return { line, text: text.slice(start, end < 0 ? text.length : end).trim() };
};

/**
 * The line of `sql` that reads the table `table`: preferably where it follows FROM, JOIN or a comma
 * of a FROM list, else any mention of it as a name (not `x.table` nor `table.column`). Comments and
 * strings do not count. Null when the query does not name it.
 */
export function sqlReferenceLine(sql: string, table: string): TextLine | null {
  const code = sqlCode(sql);
  const re = new RegExp(`(?<![\\w$.])${table.replace(/[^\w$]/g, '\\$&')}(?![\\w$])`, 'gi');
  let fallback: number | null = null;
  let loose: number | null = null;
  for (const m of code.matchAll(re)) {
    const at = m.index;
    const before = code.slice(0, at).replace(/\s+$/, '');
    const clause = /\b(select|from|join|where|group|order|having|on|using|limit|union)\b(?![\s\S]*\b(?:select|from|join|where|group|order|having|on|using|limit|union)\b)/i.exec(before)?.[1]?.toLowerCase();
    if (/\b(from|join)$/i.test(before) || (before.endsWith(',') && clause === 'from'))
      return lineAt(sql, at);
    const next = code.slice(at + m[0].length).replace(/^\s+/, '');
    if (loose == null && !next.startsWith('.')) loose = at;
    fallback ??= at;
  }
  const at = loose ?? fallback;
  return at == null ? null : lineAt(sql, at);
}

// ---- Python ----

/** One parameter of a `def`: its name and where its text starts and ends (annotation and default included). */
interface PyParam {
  name: string;
  start: number;
  end: number;
  star: boolean;
}

/** The parameters of `def fn(…)` with their offsets, and where the list's parentheses are; null when there is no such def. */
function pythonSignature(code: string, fn: string): { open: number; close: number; params: PyParam[] } | null {
  const toks = tokenizePython(code);
  const sig = toks.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  for (let i = 0; i + 2 < sig.length; i++) {
    if (!(sig[i]!.text === 'def' && sig[i + 1]!.text === fn && sig[i + 2]!.text === '(')) continue;
    const params: PyParam[] = [];
    let depth = 0;
    let cur: PyToken[] = [];
    const flush = () => {
      if (!cur.length) return;
      const nameTok = cur.find((t) => t.kind === 'word');
      params.push({ name: nameTok?.text ?? '', start: cur[0]!.start, end: cur[cur.length - 1]!.end, star: cur[0]!.text === '*' || cur[0]!.text === '**' });
      cur = [];
    };
    for (let j = i + 3; j < sig.length; j++) {
      const t = sig[j]!;
      if (depth === 0 && t.text === ')') {
        flush();
        return { open: sig[i + 2]!.start, close: t.start, params };
      }
      if (t.text === '(' || t.text === '[' || t.text === '{') depth++;
      else if (t.text === ')' || t.text === ']' || t.text === '}') depth--;
      if (depth === 0 && t.text === ',') flush();
      else cur.push(t);
    }
    return null;
  }
  return null;
}

/** Whether the code is still the template of a new Python task that reads nothing. */
export const isTemplatePython = (code: string) => code.trim() === pythonTemplate(null).trim();

/**
 * The code with `param` added to the parameters of `def fn(…)`: before `params` when the function
 * takes it, else last; annotated `pl.LazyFrame` when the module imports polars as pl. The template
 * of a new task becomes the template reading `param`. Null when that cannot be done (no such
 * function, a Python keyword, or the parameter is there already).
 */
export function addPythonParam(code: string, fn: string, param: string): string | null {
  if (PY_KEYWORDS.has(param) || !/^[A-Za-z_]\w*$/.test(param)) return null;
  if (fn === 'run' && isTemplatePython(code)) return pythonTemplate(param);
  const sig = pythonSignature(code, fn);
  if (!sig || sig.params.some((p) => p.name === param)) return null;
  const text = param + (/^\s*import\s+polars\s+as\s+pl\b/m.test(code) ? ': pl.LazyFrame' : '');
  const { params } = sig;
  // Keyword arguments reach any parameter but those after `*args` / `**kwargs`: go before them.
  const at = params.findIndex((p) => p.name === 'params' || p.star);
  if (at >= 0) {
    const p = params[at]!;
    const prevEnd = at > 0 ? code.indexOf(',', params[at - 1]!.end) + 1 : sig.open + 1;
    const gap = code.slice(prevEnd, p.start);
    const sep = gap.includes('\n') ? gap.slice(gap.lastIndexOf('\n')) : ' ';
    return code.slice(0, p.start) + `${text},${sep}` + code.slice(p.start);
  }
  if (!params.length) return code.slice(0, sig.open + 1) + text + code.slice(sig.open + 1);
  const last = params[params.length - 1]!;
  const prevEnd = params.length > 1 ? code.indexOf(',', params[params.length - 2]!.end) + 1 : sig.open + 1;
  const gap = code.slice(prevEnd, last.start);
  const sep = gap.includes('\n') ? gap.slice(gap.lastIndexOf('\n')) : ' ';
  return code.slice(0, last.end) + `,${sep}${text}` + code.slice(last.end);
}

/** The line of `def fn(…)`'s parameter `param`; null when the function does not take it. */
export function pythonParamLine(code: string, fn: string, param: string): TextLine | null {
  const p = pythonSignature(code, fn)?.params.find((x) => x.name === param);
  return p ? lineAt(code, p.start) : null;
}

// ---- connecting ----

/** How "read A in B" would be done, or why it cannot. */
export type ReadPlan =
  | { ok: true; lang: 'sql' | 'python'; before: string; after: string; summary: string }
  | { ok: false; why: string };

/** The choices offered when A → B is drawn; null when B reads nothing by its text (connect with `inputs`). */
export interface ConnectPlan {
  from: string;
  to: string;
  read: ReadPlan;
  /** The choice Enter accepts: reading for a task that reads nothing yet. */
  defaultChoice: 'read' | 'after';
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** A task with an output other tasks can read (a sink writes elsewhere; a shell command makes none). */
const hasOutput = (t: TaskInfo) => t.kind !== 'sink' && t.kind !== 'shell';

export function planConnect(from: TaskInfo, to: TaskInfo): ConnectPlan | null {
  if (to.kind !== 'sql' && to.kind !== 'python') return null;
  const base = { from: from.id, to: to.id };
  if (!hasOutput(from)) return { ...base, read: { ok: false, why: `${from.id} is a ${from.kind} task: it has no table to read.` }, defaultChoice: 'after' };
  if (to.kind === 'sql') {
    const sql = str(to.settings?.sql);
    const after = readInSql(sql, from.id);
    if (after == null)
      return { ...base, read: { ok: false, why: `${to.id} already has its own query: name ${from.id} in its FROM or JOIN to read it.` }, defaultChoice: 'after' };
    return { ...base, read: { ok: true, lang: 'sql', before: sql, after, summary: `rewrites the query to SELECT * FROM ${sqlTable(from.id)}` }, defaultChoice: 'read' };
  }
  const code = str(to.settings?.code);
  const fn = str(to.settings?.function) || 'run';
  if (PY_KEYWORDS.has(from.id))
    return { ...base, read: { ok: false, why: `${from.id} is a Python keyword: it cannot be a parameter.` }, defaultChoice: 'after' };
  const after = addPythonParam(code, fn, from.id);
  if (after == null) return { ...base, read: { ok: false, why: `No def ${fn}(…) to add ${from.id} to in the code of ${to.id}.` }, defaultChoice: 'after' };
  const fresh = pythonReads(to).length === 0;
  return { ...base, read: { ok: true, lang: 'python', before: code, after, summary: `adds ${from.id} to the parameters of ${fn}()` }, defaultChoice: fresh ? 'read' : 'after' };
}

/** The message shown when an edge cannot be removed on the canvas: which line to change, and how. */
export function dataEdgeMessage(edge: Edge, origin: EdgeOrigin, to: TaskInfo | undefined): string {
  const head = `${edge.from} → ${edge.to} is a data edge: ${edge.to}`;
  if (origin === 'sql') {
    const sql = str(to?.settings?.sql);
    const file = str(to?.settings?.file);
    const where = sqlReferenceLine(sql, edge.from);
    const src = file || `the SQL of ${edge.to}`;
    if (where)
      return `${head} reads the table ${edge.from} in its SQL. To remove the edge, change line ${where.line} of ${src}:\n  ${where.line} | ${where.text}`;
    return `${head} reads the table ${edge.from} in its SQL (${src}): edit that SQL to remove the edge.`;
  }
  if (origin === 'python') {
    const code = str(to?.settings?.code);
    const fn = str(to?.settings?.function) || 'run';
    const file = str(to?.settings?.file) || `the code of ${edge.to}`;
    const where = pythonParamLine(code, fn, edge.from);
    if (where)
      return `${head}'s function ${fn}() takes ${edge.from} as a parameter. To remove the edge, drop that parameter on line ${where.line} of ${file}:\n  ${where.line} | ${where.text}`;
    return `${head}'s function takes ${edge.from} as a parameter (${file}): edit that code to remove the edge.`;
  }
  return `${head} writes or checks ${edge.from} (its \`input\`): change that setting of ${edge.to} to remove the edge.`;
}
