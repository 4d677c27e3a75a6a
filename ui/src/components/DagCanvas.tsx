// The pipeline's DAG on an @xyflow/react canvas: live task states of the shown run, and authoring —
// add tasks from the palette, connect, delete, rename, move, undo/redo. Every edit goes through the
// runner's authoring API (which validates it and writes pipeline.toml/.sql); node positions are kept
// in the pipeline's layout.json.
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useNodesState,
  useReactFlow,
  type Connection,
  type Edge as FlowEdge,
  type Node,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import { ApiError, type ApiClient } from '../api/client';
import * as authoring from '../api/authoring';
import type { Positions, XY } from '../api/authoring';
import type { TaskStates } from '../api/runState';
import type { Edge, PipelineDetail, PlanCheck, TaskKind, TaskRun } from '../api/types';
import { applyOp, type CanvasApi } from './canvas/applyOp';
import { ContextMenu, type MenuItem } from './canvas/ContextMenu';
import { describe, emptyHistory, record, redoStep, undoStep, withCurrentSpec, type CanvasOp, type History } from './canvas/history';
import { NewTaskForm } from './canvas/NewTaskForm';
import { KIND_MIME, Palette } from './canvas/Palette';
import { placeNodes } from './canvas/placement';
import { nodeTypes, RenameContext, type RenameActions, type TaskNode } from './canvas/TaskNode';
import { defaultSettings, edgeLockedMessage, edgeOrigin, explicitInputs, pythonCall, specFromTask, suggestId, type TaskInfo } from './canvas/taskSpec';
import { layoutDag, NODE_H, NODE_W } from './layout';
import './canvas/canvas.css';

const STATE_COLOR: Record<string, string> = {
  pending: '#9aa3ad',
  running: '#3b82f6',
  success: '#22a559',
  cached: '#14a3a3',
  skipped: '#b0b0b0',
  failed: '#e5484d',
  upstream_failed: '#f08c00',
  cancelled: '#8a8a8a',
  none: '#c9ced6',
};
const FIT = { padding: 0.2, maxZoom: 1.25 };
const SAVE_DELAY_MS = 300;

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const edgeId = (e: Edge) => `${e.from}->${e.to}`;

type Message = { kind: 'error' | 'info'; text: string };
type Drop = { kind: TaskKind; flow: XY; at: { left: number; top: number } };
type Menu = { at: { left: number; top: number }; node?: string; edge?: Edge };

export interface DagCanvasProps {
  pipeline: PipelineDetail;
  states: TaskStates;
  hasRun: boolean;
  selectedTask: string | null;
  onSelectTask: (id: string | null) => void;
  colorMode: 'light' | 'dark';
  /** With `client` and `onPipelineChanged` the canvas edits; without, it only shows. */
  client?: ApiClient;
  /** Called with the pipeline as reloaded after every accepted edit. */
  onPipelineChanged?: (detail: PipelineDetail) => void;
  /** Task runs of the shown run: row counts and durations on the nodes. */
  runTasks?: TaskRun[] | null;
}

export function DagCanvas(props: DagCanvasProps) {
  return (
    <ReactFlowProvider>
      <Canvas {...props} />
    </ReactFlowProvider>
  );
}

function Canvas(props: DagCanvasProps) {
  const { pipeline, states, hasRun, selectedTask, onSelectTask, colorMode, client, onPipelineChanged, runTasks } = props;
  const editable = !!client && !!onPipelineChanged;
  const flow = useReactFlow();
  const wrapper = useRef<HTMLDivElement>(null);
  const tasks = pipeline.tasks as TaskInfo[];
  const name = pipeline.name;

  const [layout, setLayout] = useState<{ name: string; pos: Positions } | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const [nodes, setNodes, onNodesChange] = useNodesState<TaskNode>([]);
  const [history, setHistory] = useState<History>(emptyHistory);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Message | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  // Queries that would fail, planned over their inputs' schemas: marked on their nodes.
  const [problems, setProblems] = useState<Record<string, string>>({});
  useEffect(() => {
    if (!client) return;
    const ctrl = new AbortController();
    client
      .checkPipeline(pipeline.name, ctrl.signal)
      .then((c) => setProblems(problemsByTask(c)))
      .catch(() => setProblems({}));
    return () => ctrl.abort();
  }, [client, pipeline]);
  const [drop, setDrop] = useState<Drop | null>(null);
  const [menu, setMenu] = useState<Menu | null>(null);
  const [selectedEdge, setSelectedEdge] = useState<string | null>(null);

  // Refs mirror state that async edits read after an await (the values of the render that
  // started them would be stale).
  const posRef = useRef<Positions>({});
  const historyRef = useRef<History>(emptyHistory);
  const busyRef = useRef(false);
  const live = useRef({ name, tasks, selectedTask });
  live.current = { name, tasks, selectedTask };

  // ---- positions: load layout.json, place tasks without a position, save (debounced) ----
  const savedFor = useRef<string | null>(null);
  const saveTimer = useRef<{ timer: ReturnType<typeof setTimeout>; run: () => void } | null>(null);
  const idsKey = tasks.map((t) => t.id).join(',');
  const edgesKey = pipeline.edges.map(edgeId).join(',');

  const flushSave = useCallback(() => {
    const pending = saveTimer.current;
    if (!pending) return;
    clearTimeout(pending.timer);
    saveTimer.current = null;
    pending.run();
  }, []);

  const scheduleSave = useCallback(() => {
    if (!client) return;
    if (saveTimer.current) clearTimeout(saveTimer.current.timer);
    const target = live.current.name;
    const run = () => {
      const ids = new Set(live.current.name === target ? live.current.tasks.map((t) => t.id) : Object.keys(posRef.current));
      const pos = Object.fromEntries(Object.entries(posRef.current).filter(([id]) => ids.has(id)));
      authoring.putLayout(client, target, pos).catch((e: unknown) =>
        setMessage({ kind: 'error', text: `Could not save node positions: ${errText(e)}` }),
      );
    };
    saveTimer.current = { timer: setTimeout(() => flushSave(), SAVE_DELAY_MS), run };
  }, [client, flushSave]);

  const commitPositions = useCallback(
    (pos: Positions, save: boolean) => {
      posRef.current = pos;
      setLayout({ name: live.current.name, pos });
      if (save) scheduleSave();
    },
    [scheduleSave],
  );

  // A new pipeline: fresh history and messages; pending position saves of the old one go out now.
  useEffect(() => {
    historyRef.current = emptyHistory;
    setHistory(emptyHistory);
    setMessage(null);
    setDrop(null);
    setMenu(null);
    setRenaming(null);
    setSelectedEdge(null);
    return flushSave;
  }, [name, flushSave]);

  useEffect(() => {
    let alive = true;
    setLayoutError(null);
    (async () => {
      if (savedFor.current !== name) {
        // Unreadable saved positions are not worth a blank canvas: lay out and say so.
        const saved = client
          ? await authoring.getLayout(client, name).catch((e: unknown) => {
              setMessage({ kind: 'error', text: `Could not read saved node positions: ${errText(e)}` });
              return {};
            })
          : {};
        if (!alive) return;
        savedFor.current = name;
        posRef.current = saved;
      }
      const ids = tasks.map((t) => t.id);
      const cur = posRef.current;
      let pos: Positions;
      if (ids.every((id) => cur[id])) pos = Object.fromEntries(ids.map((id) => [id, cur[id]!]));
      else {
        const elk = await layoutDag(tasks, pipeline.edges);
        if (!alive) return;
        pos = placeNodes(ids, pipeline.edges, posRef.current, elk);
      }
      posRef.current = pos;
      setLayout({ name, pos });
    })().catch((e: unknown) => alive && setLayoutError(errText(e)));
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- idsKey/edgesKey stand for tasks and edges: re-place only when the graph changes, not on every reload
  }, [client, name, idsKey, edgesKey]);

  // ---- nodes and edges ----
  const runInfo = useMemo(() => {
    const m = new Map<string, { rows: number | null; durationMs: number | null }>();
    for (const t of runTasks ?? [])
      m.set(t.task_id, {
        rows: t.rows,
        durationMs: t.started_at_ms != null && t.ended_at_ms != null ? t.ended_at_ms - t.started_at_ms : null,
      });
    return m;
  }, [runTasks]);

  useEffect(() => {
    if (!layout || layout.name !== name) return;
    setNodes((prev) => {
      const byId = new Map(prev.map((n) => [n.id, n]));
      return tasks.map((t) => {
        const old = byId.get(t.id);
        const info = runInfo.get(t.id);
        return {
          ...(old ?? {}),
          id: t.id,
          type: 'task' as const,
          // A node being dragged keeps its place when live states re-render the graph.
          position: old?.dragging ? old.position : (layout.pos[t.id] ?? { x: 0, y: 0 }),
          selected: t.id === selectedTask,
          draggable: editable,
          connectable: editable,
          deletable: false,
          data: {
            id: t.id,
            kind: t.kind,
            state: states[t.id] ?? (hasRun ? 'pending' : 'none'),
            rows: info?.rows ?? null,
            durationMs: info?.durationMs ?? null,
            renaming: renaming === t.id,
            editable,
            engine: t.kind === 'sql' && typeof t.settings?.runs_on === 'string' ? t.settings.runs_on : undefined,
            engineWhy: typeof t.settings?.route === 'string' ? t.settings.route : undefined,
            problem: problems[t.id],
            call: pythonCall(t) ?? undefined,
          },
        };
      });
    });
  }, [layout, name, tasks, states, hasRun, selectedTask, renaming, runInfo, editable, setNodes, problems]);

  const edges: FlowEdge[] = useMemo(
    () =>
      pipeline.edges.map((e) => {
        const origin = edgeOrigin(e, tasks);
        return {
          id: edgeId(e),
          source: e.from,
          target: e.to,
          selected: edgeId(e) === selectedEdge,
          deletable: false,
          className: `edge-from-${origin}`,
          animated: states[e.from] === 'running' || states[e.to] === 'running',
        };
      }),
    [pipeline.edges, tasks, states, selectedEdge],
  );

  // ---- edits ----
  const api = useMemo<CanvasApi | null>(
    () =>
      client
        ? {
            addTask: (spec) => authoring.addTask(client, live.current.name, spec),
            removeTask: (id) => authoring.removeTask(client, live.current.name, id),
            renameTask: (from, to) => authoring.renameTask(client, live.current.name, from, to),
            setInputs: (task, inputs) => authoring.setInputs(client, live.current.name, task, inputs),
          }
        : null,
    [client],
  );

  /** Applies `op` through the API; on success keeps `nextHistory(history)`, else shows the engine's error. */
  const perform = useCallback(
    async (op: CanvasOp, nextHistory: (h: History) => History, okText?: string): Promise<boolean> => {
      if (!api || !client || !onPipelineChanged) return false;
      if (busyRef.current) {
        setMessage({ kind: 'info', text: 'Still saving the previous edit…' });
        return false;
      }
      busyRef.current = true;
      setBusy(true);
      setMessage(null);
      try {
        const res = await applyOp(api, op, posRef.current);
        historyRef.current = nextHistory(historyRef.current);
        setHistory(historyRef.current);
        let fresh = res.detail;
        if (fresh) fresh = await client.getPipeline(live.current.name).catch(() => res.detail);
        // Detail and positions change in one render, so renamed/added nodes never lack a place.
        if (fresh) onPipelineChanged(fresh);
        if (res.layoutChanged) commitPositions(res.positions, true);
        const sel = live.current.selectedTask;
        if (op.type === 'rename' && sel === op.from) onSelectTask(op.to);
        if (op.type === 'remove' && sel === op.spec.id) onSelectTask(null);
        if (okText) setMessage({ kind: 'info', text: okText });
        return true;
      } catch (e) {
        const prefix = e instanceof ApiError && e.status === 400 ? 'The engine rejected this edit; nothing changed.\n' : '';
        setMessage({ kind: 'error', text: prefix + errText(e) });
        return false;
      } finally {
        busyRef.current = false;
        setBusy(false);
        // Keep keyboard shortcuts working when the edit removed the focused element (a menu, a node).
        if (!document.activeElement || document.activeElement === document.body) wrapper.current?.focus({ preventScroll: true });
      }
    },
    [api, client, onPipelineChanged, commitPositions, onSelectTask],
  );

  const doRecord = useCallback(
    (op: CanvasOp, okText?: string) => perform(op, (h) => record(h, op), okText),
    [perform],
  );

  /** A step that removes a task takes the task as it is now (its SQL may have changed since). */
  const fresh = (step: { apply: CanvasOp; next: History }) => {
    if (step.apply.type !== 'remove') return step;
    const id = step.apply.spec.id;
    const t = live.current.tasks.find((x) => x.id === id);
    return t ? withCurrentSpec(step, specFromTask(t)) : step;
  };

  const undo = useCallback(() => {
    const found = undoStep(historyRef.current);
    if (!found) return;
    const step = fresh(found);
    void perform(step.apply, () => step.next, `Undone: ${describe(historyRef.current.done.at(-1)!)}`);
  }, [perform]);

  const redo = useCallback(() => {
    const found = redoStep(historyRef.current);
    if (!found) return;
    const step = fresh(found);
    void perform(step.apply, () => step.next, `Redone: ${describe(step.apply)}`);
  }, [perform]);

  const recordMove = useCallback(
    (before: Positions, after: Positions) => {
      const op: CanvasOp = { type: 'move', before, after };
      historyRef.current = record(historyRef.current, op);
      setHistory(historyRef.current);
      commitPositions({ ...posRef.current, ...after }, true);
    },
    [commitPositions],
  );

  const deleteTask = useCallback(
    (id: string) => {
      const t = live.current.tasks.find((x) => x.id === id);
      if (!t) return;
      void doRecord({ type: 'remove', spec: specFromTask(t), position: posRef.current[id] ?? null }, `Deleted ${id} (Ctrl+Z brings it back)`);
    },
    [doRecord],
  );

  const connect = useCallback(
    (from: string, to: string) => {
      const t = live.current.tasks.find((x) => x.id === to);
      if (!t || from === to) return;
      if (t.upstream.includes(from)) {
        setMessage({ kind: 'info', text: `${to} already reads ${from}.` });
        return;
      }
      const before = explicitInputs(t);
      void doRecord({ type: 'inputs', task: to, before, after: [...before, from] });
    },
    [doRecord],
  );

  const removeEdge = useCallback(
    (e: Edge) => {
      const ts = live.current.tasks;
      const origin = edgeOrigin(e, ts);
      if (origin !== 'inputs') {
        setMessage({ kind: 'error', text: edgeLockedMessage(e, origin) });
        return;
      }
      const before = explicitInputs(ts.find((t) => t.id === e.to)!);
      void doRecord({ type: 'inputs', task: e.to, before, after: before.filter((x) => x !== e.from) });
      setSelectedEdge(null);
    },
    [doRecord],
  );

  const autoLayout = useCallback(async () => {
    const ts = live.current.tasks;
    try {
      const elk = await layoutDag(ts, pipeline.edges);
      const before = Object.fromEntries(ts.map((t) => [t.id, posRef.current[t.id] ?? { x: 0, y: 0 }]));
      recordMove(before, elk);
      requestAnimationFrame(() => void flow.fitView({ ...FIT, duration: 200 }));
    } catch (e) {
      setMessage({ kind: 'error', text: `Layout failed: ${errText(e)}` });
    }
  }, [pipeline.edges, recordMove, flow]);

  const renameActions = useMemo<RenameActions>(
    () => ({
      start: (id) => editable && setRenaming(id),
      cancel: () => {
        setRenaming(null);
        wrapper.current?.focus({ preventScroll: true });
      },
      commit: (from, to) => {
        setRenaming(null);
        wrapper.current?.focus({ preventScroll: true });
        void doRecord({ type: 'rename', from, to });
      },
    }),
    [editable, doRecord],
  );

  // ---- drag from the palette ----
  const onDragOver = (e: DragEvent) => {
    if (!editable || !e.dataTransfer.types.includes(KIND_MIME)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onDrop = (e: DragEvent) => {
    const kind = e.dataTransfer.getData(KIND_MIME) as TaskKind;
    if (!editable || !kind) return;
    e.preventDefault();
    const rect = wrapper.current!.getBoundingClientRect();
    setMenu(null);
    setDrop({
      kind,
      flow: flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }),
      at: { left: Math.min(e.clientX - rect.left, rect.width - 240), top: Math.min(e.clientY - rect.top, rect.height - 150) },
    });
  };

  /**
   * The upstream a new validate/sink/Python task reads by default: the selected task, else the
   * nearest node left of the drop; only one of `choices`.
   */
  const defaultInputFor = (at: XY, choices: string[]): string | null => {
    if (selectedTask && choices.includes(selectedTask)) return selectedTask;
    let best: string | null = null;
    let bestD = Infinity;
    for (const t of tasks) {
      const p = posRef.current[t.id];
      if (!p || p.x > at.x || !choices.includes(t.id)) continue;
      const d = (p.x + NODE_W - at.x) ** 2 + (p.y + NODE_H / 2 - at.y) ** 2;
      if (d < bestD) [best, bestD] = [t.id, d];
    }
    return best ?? [...tasks].reverse().find((t) => choices.includes(t.id))?.id ?? null;
  };

  /** Tasks a new task of `kind` can read: a Python function is handed frames, so only tasks with an output. */
  const inputChoicesFor = (kind: TaskKind): string[] => {
    const ids = pipeline.order ?? tasks.map((t) => t.id);
    if (kind !== 'python') return ids;
    return ids.filter((id) => {
      const k = tasks.find((t) => t.id === id)?.kind;
      return k !== 'sink' && k !== 'shell';
    });
  };

  const addDropped = async (d: Drop, id: string, input: string | null) => {
    setDrop(null);
    const position = { x: d.flow.x - NODE_W / 2, y: d.flow.y - NODE_H / 2 };
    const ok = await doRecord({ type: 'add', spec: { id, kind: d.kind, settings: defaultSettings(d.kind, id, input) }, position });
    if (ok) onSelectTask(id);
    wrapper.current?.focus({ preventScroll: true });
  };

  // ---- keyboard ----
  const onKeyDown = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    if (target.closest('input, textarea, select, [contenteditable="true"]')) return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (mod && key === 'z') {
      e.preventDefault();
      if (e.shiftKey) redo();
      else undo();
    } else if (mod && key === 'y') {
      e.preventDefault();
      redo();
    } else if (mod || e.altKey) {
      return;
    } else if (key === 'f') {
      e.preventDefault();
      void flow.fitView({ ...FIT, duration: 200 });
    } else if (!editable) {
      return;
    } else if (key === 'delete' || key === 'backspace') {
      e.preventDefault();
      const edge = selectedEdge ? pipeline.edges.find((x) => edgeId(x) === selectedEdge) : undefined;
      if (edge) removeEdge(edge);
      else if (selectedTask) deleteTask(selectedTask);
    } else if (key === 'f2' && selectedTask) {
      e.preventDefault();
      setRenaming(selectedTask);
    }
  };

  // With nothing focused (just loaded, or the focused element went away), canvas keys still apply;
  // keys typed in other panels stay theirs.
  const keyHandler = useRef(onKeyDown);
  keyHandler.current = onKeyDown;
  useEffect(() => {
    const onWindowKey = (e: globalThis.KeyboardEvent) => {
      if (e.defaultPrevented || (e.target !== document.body && e.target !== document.documentElement)) return;
      keyHandler.current(e as unknown as KeyboardEvent);
    };
    window.addEventListener('keydown', onWindowKey);
    return () => window.removeEventListener('keydown', onWindowKey);
  }, []);

  // Info messages fade; errors stay until dismissed or the next edit.
  useEffect(() => {
    if (message?.kind !== 'info') return;
    const t = setTimeout(() => setMessage((m) => (m === message ? null : m)), 4000);
    return () => clearTimeout(t);
  }, [message]);

  const dragStart = useRef<Positions>({});
  const focusCanvas = () => wrapper.current?.focus({ preventScroll: true });

  const menuItems = (m: Menu): MenuItem[] => {
    if (m.node) {
      const id = m.node;
      return [
        { label: 'Rename', shortcut: 'F2', testId: 'ctx-rename', disabled: !editable, run: () => setRenaming(id) },
        { label: 'Delete', shortcut: 'Del', testId: 'ctx-delete', danger: true, disabled: !editable, run: () => deleteTask(id) },
      ];
    }
    if (m.edge) {
      const edge = m.edge;
      return [{ label: 'Remove edge', shortcut: 'Del', testId: 'ctx-remove-edge', danger: true, disabled: !editable, run: () => removeEdge(edge) }];
    }
    return [
      { label: 'Auto layout', testId: 'ctx-auto-layout', disabled: !editable, run: () => void autoLayout() },
      { label: 'Fit view', shortcut: 'F', testId: 'ctx-fit', run: () => void flow.fitView({ ...FIT, duration: 200 }) },
    ];
  };
  const menuAt = (e: { clientX: number; clientY: number }) => {
    const rect = wrapper.current!.getBoundingClientRect();
    return { left: e.clientX - rect.left, top: e.clientY - rect.top };
  };

  if (layoutError) return <div className="error-box pad">Layout failed: {layoutError}</div>;
  const ready = layout?.name === name;
  const lastDone = history.done.at(-1);
  const nextRedo = history.undone.at(-1);

  return (
    <div
      ref={wrapper}
      className="polder-canvas"
      data-testid="dag-canvas"
      data-busy={busy ? 'true' : 'false'}
      tabIndex={-1}
      onKeyDown={onKeyDown}
      onDragOver={onDragOver}
      onDrop={onDrop}
    >
      {!ready ? (
        <div className="muted center">Laying out…</div>
      ) : (
        <RenameContext.Provider value={renameActions}>
          <ReactFlow<TaskNode, FlowEdge>
            key={name}
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onNodeClick={(_, n) => {
              setSelectedEdge(null);
              setMenu(null);
              onSelectTask(n.id);
              if (!renaming) focusCanvas();
            }}
            onNodeDoubleClick={(_, n) => editable && setRenaming(n.id)}
            onEdgeClick={(_, e) => {
              setSelectedEdge(e.id);
              setMenu(null);
              focusCanvas();
            }}
            onPaneClick={() => {
              setSelectedEdge(null);
              setMenu(null);
              onSelectTask(null);
              focusCanvas();
            }}
            onNodeContextMenu={(e, n) => {
              e.preventDefault();
              onSelectTask(n.id);
              setMenu({ at: menuAt(e), node: n.id });
            }}
            onEdgeContextMenu={(e, ed) => {
              e.preventDefault();
              setSelectedEdge(ed.id);
              setMenu({ at: menuAt(e), edge: { from: ed.source, to: ed.target } });
            }}
            onPaneContextMenu={(e) => {
              e.preventDefault();
              setMenu({ at: menuAt(e) });
            }}
            onNodeDragStart={(_, _n, dragged: Node[]) => {
              dragStart.current = Object.fromEntries(dragged.map((d) => [d.id, posRef.current[d.id] ?? d.position]));
            }}
            onNodeDragStop={(_, _n, dragged: Node[]) => {
              const before = dragStart.current;
              const after = Object.fromEntries(dragged.map((d) => [d.id, { x: d.position.x, y: d.position.y }]));
              if (Object.entries(after).some(([id, p]) => before[id]?.x !== p.x || before[id]?.y !== p.y)) recordMove(before, after);
            }}
            onConnect={(c: Connection) => connect(c.source, c.target)}
            isValidConnection={(c) => c.source !== c.target}
            nodesDraggable={editable && !busy}
            nodesConnectable={editable && !busy}
            deleteKeyCode={null}
            selectionKeyCode={null}
            multiSelectionKeyCode="Shift"
            fitView
            fitViewOptions={FIT}
            minZoom={0.1}
            colorMode={colorMode}
          >
            <Background gap={16} size={1} />
            <Controls showInteractive={false} showFitView={false} />
            {tasks.length > 0 && (
              <MiniMap
                pannable
                zoomable
                style={{ width: 160, height: 100 }}
                bgColor="var(--bg-alt)"
                maskColor="rgba(127,127,127,0.15)"
                nodeColor={(n) => STATE_COLOR[(n.data as TaskNode['data']).state] ?? '#999'}
              />
            )}
          </ReactFlow>
        </RenameContext.Provider>
      )}

      {editable && <Palette />}

      <div className="dag-tools">
        {editable && (
          <>
            <button className="icon-btn" data-testid="canvas-undo" disabled={!lastDone || busy} onClick={undo} title={lastDone ? `Undo ${describe(lastDone)} (Ctrl+Z)` : 'Nothing to undo'}>
              ↶
            </button>
            <button className="icon-btn" data-testid="canvas-redo" disabled={!nextRedo || busy} onClick={redo} title={nextRedo ? `Redo ${describe(nextRedo)} (Ctrl+Shift+Z)` : 'Nothing to redo'}>
              ↷
            </button>
            <button data-testid="canvas-auto-layout" disabled={busy || tasks.length === 0} onClick={() => void autoLayout()} title="Lay out every node again (undoable)">
              Auto layout
            </button>
          </>
        )}
        <button data-testid="canvas-fit" onClick={() => void flow.fitView({ ...FIT, duration: 200 })} title="Fit the graph in view (F)">
          Fit
        </button>
      </div>

      {ready && tasks.length === 0 && (
        <div className="dag-empty" data-testid="canvas-empty">
          <div className="dag-empty-title">This pipeline has no tasks yet</div>
          <div>{editable ? 'Drag a source from the palette to start' : 'Add [[task]] entries to its pipeline.toml.'}</div>
        </div>
      )}

      {drop && (
        <NewTaskForm
          kind={drop.kind}
          at={drop.at}
          suggestion={suggestId(drop.kind, tasks.map((t) => t.id))}
          taken={tasks.map((t) => t.id)}
          inputChoices={inputChoicesFor(drop.kind)}
          defaultInput={defaultInputFor(drop.flow, inputChoicesFor(drop.kind))}
          onSubmit={(id, input) => void addDropped(drop, id, input)}
          onCancel={() => {
            setDrop(null);
            focusCanvas();
          }}
        />
      )}

      {menu && (
        <ContextMenu
          at={menu.at}
          items={menuItems(menu)}
          onClose={() => {
            setMenu(null);
            focusCanvas();
          }}
        />
      )}

      {message && (
        <div className={`dag-message ${message.kind}`} data-testid="canvas-message" data-kind={message.kind} role={message.kind === 'error' ? 'alert' : 'status'}>
          <span className="dag-message-text">{message.text}</span>
          <button className="icon" onClick={() => setMessage(null)} title="Dismiss" data-testid="canvas-message-close">
            ×
          </button>
        </div>
      )}
    </div>
  );
}

/** Each failing query's message with its place, by task. */
export function problemsByTask(c: PlanCheck): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of c.problems) {
    const at = p.file && p.line != null ? `${p.file}:${p.line}:${p.col ?? 1}: ` : '';
    out[p.task] = `${at}${p.message}`;
  }
  return out;
}
