// What the one global SQL completion provider knows about each pipeline: its tasks and their
// output columns. Notebooks update it; the provider finds a cell's pipeline and task from the
// editor model's uri (`polder://<pipeline>/<task>.sql`). Kept free of Monaco so it stays light.
import type { ColumnSchema } from '../api/types';
import type { CompletionContext } from './sqlCompletion';

export interface CompletionSource {
  /** `kind`, when known, tells tasks with an output (what a Python cell can read) from sinks and shells. */
  tasks: { id: string; upstream: string[]; kind?: string }[];
  schemas: Record<string, ColumnSchema[]>;
}

const sources = new Map<string, CompletionSource>();

export function setCompletionSource(pipeline: string, source: CompletionSource): void {
  sources.set(pipeline, source);
}

/** Kinds whose output another task can read. */
const HAS_OUTPUT = new Set(['source', 'sql', 'validate', 'python']);

export type CellLanguage = 'sql' | 'python';

/** The model uri of a cell: one model per task; the extension says the language. */
export function cellUri(pipeline: string, task: string, language: CellLanguage = 'sql'): { scheme: string; authority: string; path: string } {
  return { scheme: 'polder', authority: pipeline, path: `/${task}.${language === 'python' ? 'py' : 'sql'}` };
}

/** The completion context of the cell whose model has this uri, or null for other models. */
export function completionContextFor(uri: { scheme: string; authority: string; path: string }): CompletionContext | null {
  if (uri.scheme !== 'polder') return null;
  const src = sources.get(uri.authority);
  if (!src) return null;
  const python = uri.path.endsWith('.py');
  const task = uri.path.replace(/^\//, '').replace(/\.(sql|py)$/, '');
  const self = src.tasks.find((t) => t.id === task);
  return {
    // Every other task can be read; naming it in FROM (or as a parameter) makes it an upstream.
    // A Python function is handed frames, so only tasks with an output are offered there.
    tables: src.tasks.filter((t) => t.id !== task && (!python || !t.kind || HAS_OUTPUT.has(t.kind))).map((t) => t.id),
    columns: src.schemas,
    defaultTables: self?.upstream ?? [],
  };
}
