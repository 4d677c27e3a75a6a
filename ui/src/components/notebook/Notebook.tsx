// The notebook view: the pipeline's tasks as cells in topological order, with markdown notes
// between them. The same tasks and files as the canvas; every edit goes through the runner.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type ApiClient } from '../../api/client';
import { addTask, deleteTask, getNotes, getSchemas, newPythonTask, newSourceTask, newSqlTask, putNotes, type Note, type Schemas } from '../../api/notebook';
import type { TaskStates } from '../../api/runState';
import type { ColumnSchema, PipelineDetail, PlanCheck, TaskRun } from '../../api/types';
import { setCompletionSource } from '../../monaco/completionSource';
import { AddBar, type NewCellKind } from './AddBar';
import type { CellRun } from './CellHeader';
import { FormCell } from './FormCell';
import { NoteCell } from './NoteCell';
import { cellOrder, insertNote, newNoteId, notebookGroups } from './order';
import { PythonCell } from './PythonCell';
import { SqlCell } from './SqlCell';
import './notebook.css';

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const TERMINAL = new Set(['success', 'cached', 'skipped', 'failed', 'upstream_failed', 'cancelled']);
/** Kinds whose output a new SQL or Python cell can read. */
const READABLE = new Set(['source', 'sql', 'validate', 'python']);

export interface NotebookProps {
  client: ApiClient;
  pipeline: PipelineDetail;
  onPipelineChange: (p: PipelineDetail) => void;
  theme: 'light' | 'dark';
  /** Task runs of the run selected in the runs panel, if any. */
  runTasks: TaskRun[] | null;
  /** Live task states of that run. */
  states: TaskStates;
  selectedTask: string | null;
  onSelectTask: (task: string) => void;
}

export function Notebook({ client, pipeline, onPipelineChange, theme, runTasks, states, selectedTask, onSelectTask }: NotebookProps) {
  const name = pipeline.name;
  const order = useMemo(() => cellOrder(pipeline.tasks, pipeline.order), [pipeline.tasks, pipeline.order]);
  const byId = useMemo(() => new Map(pipeline.tasks.map((t) => [t.id, t])), [pipeline.tasks]);
  const [notes, setNotes] = useState<Note[]>([]);
  const [notesError, setNotesError] = useState<string | null>(null);
  const [editingNote, setEditingNote] = useState<string | null>(null);
  const [schemas, setSchemas] = useState<Schemas>({});
  const [focusTask, setFocusTask] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  // One cell may fill the notebook; the others stay mounted (hidden) and the scroll position returns with them.
  const [maximized, setMaximized] = useState<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const scrollBack = useRef(0);
  const toggleMaximize = (id: string) => {
    if (maximized === null) scrollBack.current = scroller.current?.scrollTop ?? 0;
    setMaximized((m) => (m === id ? null : id));
  };
  useLayoutEffect(() => {
    if (maximized === null && scroller.current) scroller.current.scrollTop = scrollBack.current;
  }, [maximized]);
  if (maximized !== null && !byId.has(maximized)) setMaximized(null);

  // Notes
  useEffect(() => {
    setNotes([]);
    setNotesError(null);
    const ctrl = new AbortController();
    getNotes(client, name, ctrl.signal)
      .then(setNotes)
      .catch((e) => !ctrl.signal.aborted && setNotesError(`Notes could not be loaded: ${errText(e)}`));
    return () => ctrl.abort();
  }, [client, name]);

  const saveNotes = useCallback(
    (next: Note[]) => {
      setNotes(next);
      putNotes(client, name, next)
        .then(() => setNotesError(null))
        .catch((e) => setNotesError(`Notes not saved: ${errText(e)}`));
    },
    [client, name],
  );

  // Output columns for completion: reloaded when tasks change or a run finishes tasks.
  useEffect(() => setSchemas({}), [client, name]);
  const idsKey = order.join(',');
  const finished = runTasks?.filter((t) => TERMINAL.has(t.status)).length ?? 0;
  useEffect(() => {
    const ctrl = new AbortController();
    getSchemas(client, name, idsKey ? idsKey.split(',') : [], ctrl.signal)
      .then((s) => setSchemas((prev) => ({ ...prev, ...s })))
      .catch(() => {
        // Completion then offers task names and keywords only.
      });
    return () => ctrl.abort();
  }, [client, name, idsKey, finished]);

  useEffect(() => {
    setCompletionSource(name, { tasks: pipeline.tasks, schemas });
  }, [name, pipeline.tasks, schemas]);

  // Queries that would fail, planned over their inputs' schemas: shown on their cells.
  const [planProblems, setPlanProblems] = useState<PlanCheck['problems']>([]);
  useEffect(() => {
    const ctrl = new AbortController();
    client
      .checkPipeline(name, ctrl.signal)
      .then((c) => setPlanProblems(c.problems))
      .catch(() => setPlanProblems([]));
    return () => ctrl.abort();
  }, [client, name, pipeline]);

  const onSchema = useCallback((task: string, schema: ColumnSchema[]) => setSchemas((prev) => ({ ...prev, [task]: schema })), []);

  const runOf = (id: string): CellRun | null => {
    const tr = runTasks?.find((t) => t.task_id === id);
    const status = states[id] ?? tr?.status;
    if (!status) return null;
    const durationMs = tr?.started_at_ms != null && tr.ended_at_ms != null ? tr.ended_at_ms - tr.started_at_ms : null;
    return { status, rows: tr?.rows ?? null, durationMs, error: tr?.error ?? null, errorLocation: tr?.error_location ?? null };
  };

  const addCell = async (kind: NewCellKind, id: string, after: string | null): Promise<string | null> => {
    // A SQL or Python cell reads the nearest task above with an output (sinks and shells have none).
    const upTo = after === null ? -1 : order.indexOf(after);
    let above: string | null = null;
    for (let i = upTo; i >= 0; i--) {
      const t = byId.get(order[i]!);
      if (t && READABLE.has(t.kind)) {
        above = t.id;
        break;
      }
    }
    try {
      const spec = kind === 'sql' ? newSqlTask(id, above) : kind === 'python' ? newPythonTask(id, above) : newSourceTask(id);
      const detail = await addTask(client, name, spec);
      setFocusTask(id);
      onPipelineChange(detail);
      onSelectTask(id);
      return null;
    } catch (e) {
      return e instanceof ApiError ? e.message : errText(e);
    }
  };

  const removeTask = async (id: string) => {
    try {
      onPipelineChange(await deleteTask(client, name, id));
      setActionError(null);
    } catch (e) {
      setActionError(`Could not remove ${id}: ${errText(e)}`);
    }
  };

  const addNote = (after: string | null) => {
    const note: Note = { id: newNoteId(notes), after, text: '' };
    setEditingNote(note.id);
    // Stored when its first text is committed; an empty new note is dropped.
    setNotes((prev) => insertNote(prev, note));
  };

  const commitNote = (id: string, text: string) => {
    setEditingNote(null);
    if (text.trim() === '') saveNotes(notes.filter((n) => n.id !== id));
    else if (text !== notes.find((n) => n.id === id)?.text) saveNotes(notes.map((n) => (n.id === id ? { ...n, text } : n)));
  };

  const groups = notebookGroups(order, notes);
  const taskIds = pipeline.tasks.map((t) => t.id);

  return (
    <div className={maximized ? 'notebook has-max' : 'notebook'} data-testid="notebook" data-maximized={maximized ?? undefined} ref={scroller}>
      {/* Keyed by pipeline: cells of another pipeline with the same task ids start afresh. */}
      <div className="nb-column" key={name}>
        {(notesError || actionError) && <div className="error-box small">{actionError ?? notesError}</div>}
        {order.length === 0 && (
          <div className="nb-empty" data-testid="notebook-empty">
            <h2>No tasks yet</h2>
            <p className="muted">
              Start with a <b>source</b> that reads your files (CSV, Parquet, JSON), or a <b>SQL cell</b>; the
              pipeline's tasks then show up here as cells, in run order.
            </p>
          </div>
        )}
        {groups.map((g) => (
          <div className="nb-group" key={g.task ?? '#top'}>
            {g.task !== null &&
              (() => {
                const task = byId.get(g.task)!;
                const common = {
                  client,
                  pipeline: name,
                  task,
                  run: runOf(task.id),
                  theme,
                  selected: selectedTask === task.id,
                  autoFocus: focusTask === task.id,
                  onSelect: () => selectedTask !== task.id && onSelectTask(task.id),
                  onPipelineChange,
                  onSchema: (s: ColumnSchema[]) => onSchema(task.id, s),
                  onDelete: () => void removeTask(task.id),
                  maximized: maximized === task.id,
                  onToggleMaximize: () => toggleMaximize(task.id),
                };
                const planProblem = planProblems.find((p) => p.task === task.id) ?? null;
                return task.kind === 'sql' ? (
                  <SqlCell key={task.id} {...common} planProblem={planProblem} />
                ) : task.kind === 'python' ? (
                  <PythonCell key={task.id} {...common} planProblem={planProblem} />
                ) : (
                  <FormCell key={task.id} {...common} taskIds={taskIds} />
                );
              })()}
            {g.notes.map((n) => (
              <NoteCell
                key={n.id}
                note={n}
                startEditing={editingNote === n.id}
                onCommit={(text) => commitNote(n.id, text)}
                onDelete={() => saveNotes(notes.filter((x) => x.id !== n.id))}
              />
            ))}
            <AddBar
              slot={g.task ?? 'top'}
              taken={taskIds}
              alwaysVisible={order.length === 0}
              onAdd={(kind, id) => addCell(kind, id, g.task)}
              onAddNote={() => addNote(g.task)}
            />
          </div>
        ))}
      </div>
    </div>
  );
}
