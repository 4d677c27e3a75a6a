// What the one global SQL completion provider knows about each pipeline: its tasks and their
// output columns. Notebooks update it; the provider finds a cell's pipeline and task from the
// editor model's uri (`polder://<pipeline>/<task>.sql`). Kept free of Monaco so it stays light.
import type { ColumnSchema } from '../api/types';
import type { CompletionContext } from './sqlCompletion';

export interface CompletionSource {
  tasks: { id: string; upstream: string[] }[];
  schemas: Record<string, ColumnSchema[]>;
}

const sources = new Map<string, CompletionSource>();

export function setCompletionSource(pipeline: string, source: CompletionSource): void {
  sources.set(pipeline, source);
}

/** The model uri of a cell: one model per task. */
export function cellUri(pipeline: string, task: string): { scheme: string; authority: string; path: string } {
  return { scheme: 'polder', authority: pipeline, path: `/${task}.sql` };
}

/** The completion context of the cell whose model has this uri, or null for other models. */
export function completionContextFor(uri: { scheme: string; authority: string; path: string }): CompletionContext | null {
  if (uri.scheme !== 'polder') return null;
  const src = sources.get(uri.authority);
  if (!src) return null;
  const task = uri.path.replace(/^\//, '').replace(/\.sql$/, '');
  const self = src.tasks.find((t) => t.id === task);
  return {
    // Every other task can be read; naming it in FROM makes it an upstream.
    tables: src.tasks.map((t) => t.id).filter((id) => id !== task),
    columns: src.schemas,
    defaultTables: self?.upstream ?? [],
  };
}
