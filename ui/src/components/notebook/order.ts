// Which cells the notebook shows, in which order: tasks in topological order with the markdown
// notes interleaved after the task each one follows.
import type { Note } from '../../api/notebook';

export type { Note };

export interface TaskLink {
  id: string;
  upstream: string[];
}

/**
 * Topological order of tasks, stable: among the tasks whose upstreams are all placed, the one
 * declared first in pipeline.toml comes first, so the notebook reads like the file. Tasks left
 * in a cycle (the runner rejects those, but a stale view may hold one) follow in declaration order.
 */
export function topoOrder(tasks: TaskLink[]): string[] {
  const index = new Map(tasks.map((t, i) => [t.id, i]));
  const waiting = new Map<string, number>();
  const downstream = new Map<string, string[]>();
  for (const t of tasks) {
    // Unknown upstream names (not tasks of this pipeline) do not hold a task back.
    const ups = [...new Set(t.upstream)].filter((u) => index.has(u) && u !== t.id);
    waiting.set(t.id, ups.length);
    for (const u of ups) downstream.set(u, [...(downstream.get(u) ?? []), t.id]);
  }
  const ready = tasks.filter((t) => waiting.get(t.id) === 0).map((t) => t.id);
  const out: string[] = [];
  while (ready.length > 0) {
    // Few tasks (hundreds at most): a sort per step keeps the rule obvious.
    ready.sort((a, b) => index.get(a)! - index.get(b)!);
    const id = ready.shift()!;
    out.push(id);
    for (const d of downstream.get(id) ?? []) {
      const n = waiting.get(d)! - 1;
      waiting.set(d, n);
      if (n === 0) ready.push(d);
    }
  }
  if (out.length < tasks.length) {
    const placed = new Set(out);
    for (const t of tasks) if (!placed.has(t.id)) out.push(t.id);
  }
  return out;
}

/** The runner's `order` when it lists exactly the pipeline's tasks, else our own. */
export function cellOrder(tasks: TaskLink[], order?: string[] | null): string[] {
  if (order && order.length === tasks.length) {
    const ids = new Set(tasks.map((t) => t.id));
    if (order.every((id) => ids.has(id)) && new Set(order).size === order.length) return order;
  }
  return topoOrder(tasks);
}

export type NotebookItem = { type: 'task'; id: string } | { type: 'note'; note: Note };

/** A group: a task (null for the top) with the notes that follow it. */
export interface NotebookGroup {
  task: string | null;
  notes: Note[];
}

/**
 * Groups the notebook: first the notes at the top, then each task followed by its notes in
 * their stored order. Notes following a task that no longer exists go to the end, so no text
 * is ever hidden.
 */
export function notebookGroups(order: string[], notes: Note[]): NotebookGroup[] {
  const byAfter = new Map<string | null, Note[]>();
  const known = new Set(order);
  const orphans: Note[] = [];
  for (const n of notes) {
    if (n.after !== null && !known.has(n.after)) orphans.push(n);
    else byAfter.set(n.after, [...(byAfter.get(n.after) ?? []), n]);
  }
  const groups: NotebookGroup[] = [{ task: null, notes: byAfter.get(null) ?? [] }];
  for (const id of order) groups.push({ task: id, notes: byAfter.get(id) ?? [] });
  if (orphans.length > 0) groups[groups.length - 1]!.notes.push(...orphans);
  return groups;
}

/** Inserts `note` as the last note of its group (`note.after`), keeping the others' order. */
export function insertNote(notes: Note[], note: Note): Note[] {
  let at = -1;
  notes.forEach((n, i) => {
    if (n.after === note.after) at = i;
  });
  if (at < 0) return [...notes, note];
  return [...notes.slice(0, at + 1), note, ...notes.slice(at + 1)];
}

/** A note id unlikely to collide with the others (ids only need to be unique per pipeline). */
export function newNoteId(notes: Note[], random: () => number = Math.random): string {
  const taken = new Set(notes.map((n) => n.id));
  for (;;) {
    const id = `n${Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0')}`;
    if (!taken.has(id)) return id;
  }
}
