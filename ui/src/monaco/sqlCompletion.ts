// What to suggest where in a SQL cell: upstream tables (every other task of the pipeline, since
// naming one in FROM makes it an upstream), columns of the tables the query references, after
// `alias.` or `table.` only that table's columns, and keywords. Pure: Monaco glue lives in setup.ts.
import { identName, lexSql, type Token } from '../sql/tokens';

export interface Column {
  name: string;
  type: string;
}

export interface CompletionContext {
  /** Table names on offer: the pipeline's other tasks. */
  tables: string[];
  /** Known output columns per task. */
  columns: Record<string, Column[]>;
  /** Tables whose columns are offered when the query names none yet (the cell's saved upstreams). */
  defaultTables?: string[];
}

/** `word`: a name used elsewhere in the text (Python cells, where a provider's list replaces Monaco's own words). */
export type SuggestionKind = 'table' | 'column' | 'keyword' | 'word';

export interface Suggestion {
  label: string;
  kind: SuggestionKind;
  detail: string;
  insertText: string;
  /** Orders the list: Monaco sorts by this, then by label. */
  sortText: string;
}

export interface CompletionResult {
  /** Offset where the replaced word starts (the cursor is its end). */
  from: number;
  suggestions: Suggestion[];
}

export const SQL_KEYWORDS = [
  'SELECT', 'FROM', 'WHERE', 'GROUP BY', 'ORDER BY', 'HAVING', 'LIMIT', 'OFFSET', 'JOIN', 'LEFT JOIN',
  'INNER JOIN', 'FULL JOIN', 'CROSS JOIN', 'ON', 'USING', 'AS', 'AND', 'OR', 'NOT', 'IN', 'IS', 'NULL',
  'LIKE', 'ILIKE', 'BETWEEN', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'DISTINCT', 'UNION ALL', 'UNION',
  'WITH', 'OVER', 'PARTITION BY', 'CAST', 'COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'COALESCE', 'ASC', 'DESC',
  'TRUE', 'FALSE', 'QUALIFY', 'EXCEPT', 'INTERSECT',
];

/** Words that end a FROM list or cannot be an alias. */
const CLAUSE_WORDS = new Set([
  'where', 'group', 'order', 'having', 'limit', 'offset', 'join', 'left', 'right', 'inner', 'outer',
  'full', 'cross', 'natural', 'on', 'using', 'union', 'except', 'intersect', 'window', 'qualify',
  'select', 'from', 'as', 'lateral', 'positional', 'asof', 'anti', 'semi', 'pivot', 'unpivot', 'sample',
  'tablesample', 'returning', 'fetch', 'for', 'and', 'or', 'not', 'by', 'with',
]);

const SIMPLE_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The text to insert for a name: quoted when it is not a plain identifier. */
export function quoteIdent(name: string): string {
  return SIMPLE_IDENT.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const lower = (s: string) => s.toLowerCase();
const isWord = (t: Token | undefined, w: string) => t?.kind === 'word' && lower(t.text) === w;

export interface TableRef {
  table: string;
  alias: string | null;
}

/**
 * Tables a query reads, with their aliases: `FROM a [AS] x, b y JOIN c ON …`. Names followed
 * by `(` are table functions and CTE names are skipped; neither is a task.
 */
export function tableRefs(tokens: Token[]): TableRef[] {
  const ctes = new Set<string>();
  for (let i = 0; i + 2 < tokens.length; i++) {
    // `WITH name AS (` and `, name AS (`: a CTE definition.
    const [a, b, c] = [tokens[i]!, tokens[i + 1]!, tokens[i + 2]!];
    if ((isWord(a, 'with') || (a.kind === 'punct' && a.text === ',')) && identName(b) && isWord(c, 'as') && tokens[i + 3]?.text === '(')
      ctes.add(lower(identName(b)!));
  }
  const refs: TableRef[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (!(isWord(t, 'from') || isWord(t, 'join'))) {
      i++;
      continue;
    }
    // One FROM list: items separated by commas at this paren depth.
    i++;
    for (;;) {
      const name = tokens[i];
      if (!name || !identName(name) || (name.kind === 'word' && CLAUSE_WORDS.has(lower(name.text)))) break;
      let j = i + 1;
      let table = identName(name)!;
      // schema.table: the last part names the table.
      while (tokens[j]?.text === '.' && tokens[j + 1] && identName(tokens[j + 1]!)) {
        table = identName(tokens[j + 1]!)!;
        j += 2;
      }
      if (tokens[j]?.text === '(') break; // table function
      if (isWord(tokens[j], 'as')) j++;
      let alias: string | null = null;
      const a = tokens[j];
      if (a && identName(a) && !(a.kind === 'word' && CLAUSE_WORDS.has(lower(a.text)))) {
        alias = identName(a);
        j++;
      }
      if (!ctes.has(lower(table))) refs.push({ table, alias });
      i = j;
      if (tokens[i]?.text === ',') {
        i++;
        continue;
      }
      break;
    }
  }
  return refs;
}

/** Finds `name` among `tables` (exact first, then case-insensitively: DuckDB folds case). */
function findTable(name: string, tables: Iterable<string>): string | null {
  let ci: string | null = null;
  for (const t of tables) {
    if (t === name) return t;
    if (ci === null && lower(t) === lower(name)) ci = t;
  }
  return ci;
}

/**
 * One suggestion per column name of `tables` (the detail says which tables have it and its
 * type), inserted as `insert` writes it. Python cells use it too.
 */
export function columnSuggestions(
  tables: string[],
  ctx: CompletionContext,
  sortPrefix: string,
  insert: (name: string) => string = quoteIdent,
): Suggestion[] {
  const byName = new Map<string, { types: Set<string>; tables: string[] }>();
  for (const table of tables) {
    for (const col of ctx.columns[table] ?? []) {
      const e = byName.get(col.name) ?? { types: new Set<string>(), tables: [] };
      e.types.add(col.type);
      if (!e.tables.includes(table)) e.tables.push(table);
      byName.set(col.name, e);
    }
  }
  return [...byName].map(([name, e]) => ({
    label: name,
    kind: 'column' as const,
    detail: `${[...e.types].join(' | ')} · ${e.tables.join(', ')}`,
    insertText: insert(name),
    sortText: `${sortPrefix}${name}`,
  }));
}

/** One suggestion per task, inserted as `insert` writes its name. Python cells use it too. */
export function tableSuggestions(ctx: CompletionContext, sortPrefix: string, insert: (name: string) => string = quoteIdent): Suggestion[] {
  return ctx.tables.map((t) => ({
    label: t,
    kind: 'table' as const,
    detail: ctx.columns[t] ? `task · ${ctx.columns[t]!.length} columns` : 'task',
    insertText: insert(t),
    sortText: `${sortPrefix}${t}`,
  }));
}

function keywordSuggestions(sortPrefix: string): Suggestion[] {
  return SQL_KEYWORDS.map((k) => ({ label: k, kind: 'keyword' as const, detail: 'keyword', insertText: k, sortText: `${sortPrefix}${k}` }));
}

/** Suggestions for the cursor at `offset` in `sql`. */
export function completeSql(sql: string, offset: number, ctx: CompletionContext): CompletionResult {
  const { tokens, inert } = lexSql(sql);
  let from = offset;
  while (from > 0 && /[A-Za-z0-9_$]/.test(sql[from - 1]!)) from--;
  if (inert.some(([s, e]) => offset > s && offset <= e && !(offset === e && sql[e - 1] === "'"))) return { from, suggestions: [] };

  const refs = tableRefs(tokens);
  const before = tokens.filter((t) => t.end <= from);
  const prev = before[before.length - 1];

  // `qualifier.` right before the word: that table's columns only.
  if (prev?.text === '.' && prev.end === from) {
    const q = before[before.length - 2];
    const qName = q && q.end === prev.start ? identName(q) : null;
    if (!qName) return { from, suggestions: [] };
    const ref = refs.find((r) => r.alias !== null && lower(r.alias) === lower(qName));
    const table = ref ? findTable(ref.table, Object.keys(ctx.columns)) : findTable(qName, Object.keys(ctx.columns));
    return { from, suggestions: table ? columnSuggestions([table], ctx, '0') : [] };
  }

  // Where a table name goes: after FROM / JOIN, or after a comma inside a FROM list.
  if (isWord(prev, 'from') || isWord(prev, 'join') || (prev?.text === ',' && inFromList(before))) {
    return { from, suggestions: [...tableSuggestions(ctx, '0'), ...keywordSuggestions('2')] };
  }

  const known = Object.keys(ctx.columns);
  let tables = refs.map((r) => findTable(r.table, known)).filter((t): t is string => t !== null);
  if (refs.length === 0) tables = (ctx.defaultTables ?? []).filter((t) => ctx.columns[t]);
  return {
    from,
    suggestions: [...columnSuggestions([...new Set(tables)], ctx, '0'), ...tableSuggestions(ctx, '1'), ...keywordSuggestions('2')],
  };
}

/** Whether the last comma in `before` separates items of a FROM list (not a SELECT list). */
function inFromList(before: Token[]): boolean {
  let depth = 0;
  for (let i = before.length - 1; i >= 0; i--) {
    const t = before[i]!;
    if (t.text === ')') depth++;
    else if (t.text === '(') {
      if (depth === 0) return false;
      depth--;
    } else if (depth === 0 && t.kind === 'word') {
      const w = lower(t.text);
      if (w === 'from') return true;
      if (w === 'select' || w === 'where' || w === 'by' || w === 'on' || w === 'having') return false;
    }
  }
  return false;
}
