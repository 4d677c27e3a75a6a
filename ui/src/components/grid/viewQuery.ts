// A view of an output = sort keys + filter conditions, run on the server. This module builds the
// runner's query strings (`sort=col:asc,col2:desc`, `filter=col:op:value;…`) and the sort cycle.

export type SortDir = 'asc' | 'desc';
export interface SortKey {
  column: string;
  dir: SortDir;
}

export type FilterOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'contains' | 'is_null' | 'not_null';
export interface Filter {
  column: string;
  op: FilterOp;
  /** Text; the server casts it to the column's type. Ignored by is_null / not_null. */
  value: string;
}

export interface ViewSpec {
  sort: SortKey[];
  filters: Filter[];
}

export const EMPTY_VIEW: ViewSpec = { sort: [], filters: [] };

export const FILTER_OPS: { op: FilterOp; label: string; needsValue: boolean }[] = [
  { op: 'eq', label: '=', needsValue: true },
  { op: 'ne', label: '≠', needsValue: true },
  { op: 'lt', label: '<', needsValue: true },
  { op: 'le', label: '≤', needsValue: true },
  { op: 'gt', label: '>', needsValue: true },
  { op: 'ge', label: '≥', needsValue: true },
  { op: 'contains', label: 'contains', needsValue: true },
  { op: 'is_null', label: 'is null', needsValue: false },
  { op: 'not_null', label: 'is not null', needsValue: false },
];

export function opNeedsValue(op: FilterOp): boolean {
  return FILTER_OPS.find((o) => o.op === op)?.needsValue ?? true;
}

/**
 * The sort after a header click on `column`: asc → desc → none. A plain click makes it the only
 * key; `additive` (shift-click) changes or appends it while keeping the other keys in order.
 */
export function nextSort(sort: readonly SortKey[], column: string, additive: boolean): SortKey[] {
  const cur = sort.find((k) => k.column === column);
  const next: SortKey | null = !cur ? { column, dir: 'asc' } : cur.dir === 'asc' ? { column, dir: 'desc' } : null;
  if (!additive) return next ? [next] : [];
  if (!cur) return [...sort, next!];
  return sort.flatMap((k) => (k.column !== column ? [k] : next ? [next] : []));
}

/** Sets one column's sort explicitly (header menu); `dir` null removes it. Keeps other keys only when `additive`. */
export function setSort(sort: readonly SortKey[], column: string, dir: SortDir | null, additive = false): SortKey[] {
  if (!additive) return dir ? [{ column, dir }] : sort.filter((k) => k.column !== column);
  if (!dir) return sort.filter((k) => k.column !== column);
  return sort.some((k) => k.column === column) ? sort.map((k) => (k.column === column ? { column, dir } : k)) : [...sort, { column, dir }];
}

/** Why a filter cannot be sent, or null when it can (the query syntax reserves `;` and `:` in names). */
export function filterProblem(f: Filter): string | null {
  if (f.column.includes(':') || f.column.includes(';')) return `column "${f.column}" cannot be filtered on (its name holds ":" or ";")`;
  if (opNeedsValue(f.op) && f.value.includes(';')) return 'a filter value cannot contain ";"';
  if (opNeedsValue(f.op) && f.value === '') return 'enter a value to compare with';
  return null;
}

/** The query parameters of a view (empty parts omitted). */
export function viewQuery(view: ViewSpec): Record<string, string> {
  const q: Record<string, string> = {};
  if (view.sort.length > 0) q.sort = view.sort.map((k) => `${k.column}:${k.dir}`).join(',');
  const fs = view.filters.filter((f) => filterProblem(f) === null);
  if (fs.length > 0) q.filter = fs.map((f) => (opNeedsValue(f.op) ? `${f.column}:${f.op}:${f.value}` : `${f.column}:${f.op}`)).join(';');
  return q;
}

/** A stable key of a view: equal views share cached pages, a different one starts afresh. */
export function viewKey(view: ViewSpec): string {
  const q = viewQuery(view);
  return `${q.sort ?? ''}|${q.filter ?? ''}`;
}

/** A human summary of a filter, for its chip: "id < 10". */
export function filterLabel(f: Filter): string {
  const op = FILTER_OPS.find((o) => o.op === f.op);
  return op?.needsValue ? `${f.column} ${op.label} ${f.value}` : `${f.column} ${op?.label ?? f.op}`;
}
