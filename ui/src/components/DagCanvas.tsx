// The pipeline's DAG on an @xyflow/react canvas: live task states of the shown run, and authoring —
// add tasks from the palette, connect, delete, rename, move, undo/redo. Every edit goes through the
// runner's authoring API (which validates it and writes pipeline.toml/.sql); node positions are kept
// in the pipeline's layout.json.
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useNodesState,
  useReactFlow,
  useStore,
  type Connection,
  type Node,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type CSSProperties, type DragEvent, type KeyboardEvent } from 'react';
import { ApiError, type ApiClient } from '../api/client';
import * as authoring from '../api/authoring';
import { saveTaskCode, saveTaskSql } from '../api/notebook';
import type { Positions, XY } from '../api/authoring';
import type { TaskStates } from '../api/runState';
import type { Edge, PipelineDetail, PlanCheck, TaskKind, TaskRun } from '../api/types';
import { applyOp, type CanvasApi } from './canvas/applyOp';
import { ContextMenu, type MenuItem } from './canvas/ContextMenu';
import { dataEdgeMessage, planConnect, type ConnectPlan } from './canvas/dataEdge';
import { EdgeLegend, edgeTypes, type DagFlowEdge } from './canvas/DagEdge';
import { EdgeChoice, type EdgeChoiceValue } from './canvas/EdgeChoice';
import { describe, emptyHistory, record, redoStep, undoStep, withCurrentSpec, type CanvasOp, type History } from './canvas/history';
import { NewTaskForm } from './canvas/NewTaskForm';
import { KIND_MIME, Palette } from './canvas/Palette';
import { placeNodes, spotForNew } from './canvas/placement';
import { nodeTypes, RenameContext, type RenameActions, type TaskNode } from './canvas/TaskNode';
import { defaultSettings, edgeOrigin, explicitInputs, pythonCall, specFromTask, suggestId, type EdgeOrigin, type TaskInfo } from './canvas/taskSpec';
import { boundsOf, FULL_LABEL_PX, lodFor, readableFit, sameViewport, type Insets, type Viewport } from './canvas/viewport';
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
/** Fit zooms in no further than this (a small graph would otherwise fill the canvas). */
const FIT_MAX_ZOOM = 1.25;
/** The overview (Fit pressed again when the graph is too big to read whole) goes down to this. */
const OVERVIEW_MIN_ZOOM = 0.05;
const FIT_MS = 200;
const SAVE_DELAY_MS = 300;

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const edgeId = (e: Edge) => `${e.from}->${e.to}`;

/** A message; info fades after a while unless `sticky` (an explanation worth reading). */
type Message = { kind: 'error' | 'info'; text: string; sticky?: boolean };
type Box = { left: number; top: number; width: number; height: number };
/** A task being added: its kind, the centre of its node (flow coordinates), where the form shows, and the node's outline. */
type Drop = { kind: TaskKind; flow: XY; at: { left: number; top: number }; ghost: Box; restore?: Viewport };
/** The question asked after A → B was drawn onto a SQL or Python task. */
type Choice = { plan: ConnectPlan; at: { left: number; top: number } };

const ORIGIN_TEXT: Record<EdgeOrigin, string> = {
  inputs: 'inputs',
  input: 'its input',
  sql: 'its SQL names the table',
  python: 'a parameter of its function',
};
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
  const [choice, setChoice] = useState<Choice | null>(null);
  /** After a Fit that could not show every node readably: that viewport, and how many nodes are out of it. */
  const [partial, setPartial] = useState<{ vp: Viewport; hidden: number } | null>(null);
  const [menu, setMenu] = useState<Menu | null>(null);
  const [selectedEdge, setSelectedEdge] = useState<string | null>(null);

  const focusCanvas = () => wrapper.current?.focus({ preventScroll: true });

  // Level of detail: compact nodes with a label that keeps its size on screen when zoomed out.
  const lodKey = useStore((s) => {
    const l = lodFor(s.transform[2]);
    return `${l.level}:${l.labelPx}`;
  });
  const [lod, labelPx] = lodKey.split(':') as [string, string];
  const paneWidth = useStore((s) => s.width);

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
    setChoice(null);
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
            changed: t.changed_since_success === true,
          },
        };
      });
    });
  }, [layout, name, tasks, states, hasRun, selectedTask, renaming, runInfo, editable, setNodes, problems]);

  // "Reads from" edges are solid, "runs after" (`inputs`) dashed; edges into a running task carry a moving dot.
  const edges: DagFlowEdge[] = useMemo(
    () =>
      pipeline.edges.map((e) => {
        const origin = edgeOrigin(e, tasks);
        const kind = origin === 'inputs' ? 'order' : 'data';
        const selected = edgeId(e) === selectedEdge;
        const active = states[e.to] === 'running';
        return {
          id: edgeId(e),
          source: e.from,
          target: e.to,
          type: 'dag' as const,
          selected,
          deletable: false,
          className: `edge-${kind} edge-from-${origin}${active ? ' edge-active' : ''}`,
          markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14, color: selected ? 'var(--accent)' : 'var(--fg-muted)' },
          data: {
            kind,
            active,
            title: kind === 'data' ? `${e.to} reads from ${e.from} (${ORIGIN_TEXT[origin]})` : `${e.to} runs after ${e.from} (inputs: order only)`,
          },
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
            setSql: (task, sql) => saveTaskSql(client, live.current.name, task, sql),
            setCode: (task, code) => saveTaskCode(client, live.current.name, task, code),
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

  /** Why a text step cannot be replayed: the query or code changed since (in the notebook, on disk). */
  const staleText = (op: CanvasOp): string | null => {
    if (op.type !== 'text') return null;
    const t = live.current.tasks.find((x) => x.id === op.task);
    const now = t?.settings?.[op.lang === 'sql' ? 'sql' : 'code'];
    if (typeof now === 'string' && now.trimEnd() === op.before.trimEnd()) return null;
    return `The ${op.lang === 'sql' ? 'SQL' : 'code'} of ${op.task} changed since “${op.what}”: not replayed, so that change is kept.`;
  };

  const undo = useCallback(() => {
    const found = undoStep(historyRef.current);
    if (!found) return;
    const step = fresh(found);
    const stale = staleText(step.apply);
    if (stale) return setMessage({ kind: 'error', text: stale });
    void perform(step.apply, () => step.next, `Undone: ${describe(historyRef.current.done.at(-1)!)}`);
  }, [perform]);

  const redo = useCallback(() => {
    const found = redoStep(historyRef.current);
    if (!found) return;
    const step = fresh(found);
    const stale = staleText(step.apply);
    if (stale) return setMessage({ kind: 'error', text: stale });
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

  /** A → B as order only: A joins B's `inputs`. */
  const runAfter = useCallback(
    (from: string, to: string) => {
      const t = live.current.tasks.find((x) => x.id === to);
      if (!t) return;
      const before = explicitInputs(t);
      void doRecord({ type: 'inputs', task: to, before, after: [...before, from] });
    },
    [doRecord],
  );

  /** Where the connect question shows: under the downstream node, inside the canvas. */
  const choiceAt = useCallback(
    (to: string) => {
      const rect = wrapper.current!.getBoundingClientRect();
      const p = posRef.current[to] ?? { x: 0, y: 0 };
      const s = flow.flowToScreenPosition({ x: p.x, y: p.y + NODE_H });
      return {
        left: Math.max(8, Math.min(s.x - rect.left, rect.width - 340)),
        top: Math.max(8, Math.min(s.y - rect.top + 10, rect.height - 190)),
      };
    },
    [flow],
  );

  /** Drawn A → B: onto a SQL or Python task it asks whether B reads A or only runs after it. */
  const connect = useCallback(
    (from: string, to: string) => {
      const ts = live.current.tasks;
      const t = ts.find((x) => x.id === to);
      const f = ts.find((x) => x.id === from);
      if (!t || !f || from === to) return;
      if (t.upstream.includes(from)) {
        setMessage({ kind: 'info', text: `${to} already reads ${from}.` });
        return;
      }
      const plan = planConnect(f, t);
      if (!plan) return runAfter(from, to);
      setMenu(null);
      setDrop(null);
      setChoice({ plan, at: choiceAt(to) });
    },
    [runAfter, choiceAt],
  );

  const chooseEdge = (c: EdgeChoiceValue) => {
    const plan = choice?.plan;
    setChoice(null);
    focusCanvas();
    if (!plan) return;
    if (c === 'after' || !plan.read.ok) return runAfter(plan.from, plan.to);
    const { lang, before, after } = plan.read;
    const shown = lang === 'sql' ? `its query is now ${after.trim().split('\n').pop()}` : `${plan.from} is a parameter of its function`;
    void doRecord(
      { type: 'text', task: plan.to, lang, before, after, what: `read ${plan.from} in ${plan.to}` },
      `${plan.to} reads ${plan.from}: ${shown} (Ctrl+Z undoes)`,
    );
  };

  const removeEdge = useCallback(
    (e: Edge) => {
      const ts = live.current.tasks;
      const origin = edgeOrigin(e, ts);
      if (origin !== 'inputs') {
        setMessage({ kind: 'info', sticky: true, text: dataEdgeMessage(e, origin, ts.find((t) => t.id === e.to)) });
        return;
      }
      const before = explicitInputs(ts.find((t) => t.id === e.to)!);
      void doRecord({ type: 'inputs', task: e.to, before, after: before.filter((x) => x !== e.from) });
      setSelectedEdge(null);
    },
    [doRecord],
  );

  // ---- fit: readable first; pressed again when that cannot show everything, the whole graph ----
  const fit = useCallback(
    (mode: 'readable' | 'toggle', duration = FIT_MS) => {
      const el = wrapper.current;
      const ts = live.current.tasks;
      const b = boundsOf(
        ts.flatMap((t) => (posRef.current[t.id] ? [posRef.current[t.id]!] : [])),
        { width: NODE_W, height: NODE_H },
      );
      if (!el || !b) return;
      const insets = fitInsets(el);
      const sel = live.current.selectedTask;
      const sp = sel ? posRef.current[sel] : undefined;
      const focus = sp ? { x: sp.x + NODE_W / 2, y: sp.y + NODE_H / 2 } : null;
      const view = { width: el.clientWidth, height: el.clientHeight };
      let target = readableFit(b, view, insets, { maxZoom: FIT_MAX_ZOOM, focus });
      if (mode === 'toggle' && !target.whole && sameViewport(flow.getViewport(), target))
        target = readableFit(b, view, insets, { maxZoom: FIT_MAX_ZOOM, minZoom: OVERVIEW_MIN_ZOOM });
      // A readable fit that cannot show everything says how much is out of view.
      const out = target.whole
        ? 0
        : ts.filter((t) => {
            const p = posRef.current[t.id];
            if (!p) return false;
            const [x, y] = [p.x * target.zoom + target.x, p.y * target.zoom + target.y];
            return x < 0 || y < 0 || x + NODE_W * target.zoom > view.width || y + NODE_H * target.zoom > view.height;
          }).length;
      setPartial(out ? { vp: target, hidden: out } : null);
      void flow.setViewport({ x: target.x, y: target.y, zoom: target.zoom }, { duration });
    },
    [flow],
  );

  const autoLayout = useCallback(async () => {
    const ts = live.current.tasks;
    try {
      const elk = await layoutDag(ts, pipeline.edges);
      const before = Object.fromEntries(ts.map((t) => [t.id, posRef.current[t.id] ?? { x: 0, y: 0 }]));
      recordMove(before, elk);
      requestAnimationFrame(() => fit('readable'));
    } catch (e) {
      setMessage({ kind: 'error', text: `Layout failed: ${errText(e)}` });
    }
  }, [pipeline.edges, recordMove, fit]);

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
    const zoom = flow.getViewport().zoom;
    setMenu(null);
    setChoice(null);
    setDrop({
      kind,
      flow: flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }),
      at: { left: Math.min(e.clientX - rect.left, rect.width - 240), top: Math.min(e.clientY - rect.top, rect.height - 150) },
      ghost: { left: e.clientX - rect.left - (NODE_W * zoom) / 2, top: e.clientY - rect.top - (NODE_H * zoom) / 2, width: NODE_W * zoom, height: NODE_H * zoom },
    });
  };

  /** A palette kind clicked: the new task's place is a free spot beside the selected task (or mid-view), brought into view. */
  const addFromPalette = (kind: TaskKind) => {
    const el = wrapper.current;
    if (!editable || !el) return;
    const rect = el.getBoundingClientRect();
    const center = flow.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 });
    const sel = live.current.selectedTask;
    const taken = live.current.tasks.flatMap((t) => (posRef.current[t.id] ? [posRef.current[t.id]!] : []));
    const spot = spotForNew(sel ? (posRef.current[sel] ?? null) : null, center, taken);
    let vp = flow.getViewport();
    const box = () => ({ left: spot.x * vp.zoom + vp.x, top: spot.y * vp.zoom + vp.y, width: NODE_W * vp.zoom, height: NODE_H * vp.zoom });
    const b = box();
    // The new node and its form (right of it, or below) must be in view and clear of the palette:
    // else fit the graph with the new node, readably, around it.
    const ins = fitInsets(el);
    let restore: Viewport | undefined;
    if (b.left < ins.left || b.top < ins.top || b.left + b.width + 250 > rect.width || b.top + b.height + 60 > rect.height) {
      const bounds = boundsOf([...taken, spot], { width: NODE_W, height: NODE_H })!;
      const t = readableFit(bounds, { width: el.clientWidth, height: el.clientHeight }, { ...ins, right: ins.right + 250, bottom: ins.bottom + 40 }, {
        maxZoom: Math.min(vp.zoom, FIT_MAX_ZOOM),
        focus: { x: spot.x + NODE_W / 2, y: spot.y + NODE_H / 2 },
      });
      restore = vp;
      vp = { x: t.x, y: t.y, zoom: t.zoom };
      void flow.setViewport(vp);
    }
    const ghost = box();
    const right = ghost.left + ghost.width + 8;
    setMenu(null);
    setChoice(null);
    setDrop({
      kind,
      flow: { x: spot.x + NODE_W / 2, y: spot.y + NODE_H / 2 },
      at: right + 240 <= rect.width ? { left: right, top: Math.max(8, Math.min(ghost.top, rect.height - 150)) } : { left: Math.max(8, Math.min(ghost.left, rect.width - 240)), top: ghost.top + ghost.height + 8 },
      ghost,
      restore,
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
      fit('toggle');
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
    if (message?.kind !== 'info' || message.sticky) return;
    const t = setTimeout(() => setMessage((m) => (m === message ? null : m)), 4000);
    return () => clearTimeout(t);
  }, [message]);

  const dragStart = useRef<Positions>({});

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
      { label: 'Fit view', shortcut: 'F', testId: 'ctx-fit', run: () => fit('toggle') },
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
      data-lod={lod}
      style={{ '--dag-label': `${labelPx}px`, '--dag-k': Number(labelPx) / FULL_LABEL_PX } as CSSProperties}
      tabIndex={-1}
      onKeyDown={onKeyDown}
      onDragOver={onDragOver}
      onDrop={onDrop}
    >
      {!ready ? (
        <div className="muted center">Laying out…</div>
      ) : (
        <RenameContext.Provider value={renameActions}>
          <ReactFlow<TaskNode, DagFlowEdge>
            key={name}
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            edgeTypes={edgeTypes}
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
            onInit={() => fit('readable', 0)}
            onMoveEnd={(_, vp) => setPartial((p) => (p && !sameViewport(vp, p.vp) ? null : p))}
            minZoom={0.1}
            colorMode={colorMode}
          >
            <Background gap={16} size={1} />
            <Controls showInteractive={false} showFitView={false} />
            {tasks.length > 0 && (
              <MiniMap
                pannable
                zoomable
                style={paneWidth < 1000 ? { width: 120, height: 75 } : { width: 160, height: 100 }}
                bgColor="var(--bg-alt)"
                maskColor="rgba(127,127,127,0.15)"
                nodeColor={(n) => STATE_COLOR[(n.data as TaskNode['data']).state] ?? '#999'}
              />
            )}
          </ReactFlow>
        </RenameContext.Provider>
      )}

      {editable && <Palette onAdd={addFromPalette} />}
      {ready && tasks.length > 0 && <EdgeLegend />}

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
        <button
          data-testid="canvas-fit"
          onClick={() => fit('toggle')}
          title="Fit the graph in view at a readable size; press again to see all of a graph too big for that (F)"
        >
          Fit
        </button>
      </div>

      {partial && (
        <button className="dag-partial" data-testid="canvas-partial" onClick={() => fit('toggle')} title="Show the whole graph (labels get small)">
          {partial.hidden} of {tasks.length} tasks out of view · <kbd>F</kbd> shows all
        </button>
      )}

      {ready && tasks.length === 0 && (
        <div className="dag-empty" data-testid="canvas-empty">
          <div className="dag-empty-title">This pipeline has no tasks yet</div>
          <div>{editable ? 'Drag a source from the palette to start' : 'Add [[task]] entries to its pipeline.toml.'}</div>
        </div>
      )}

      {drop && <div className="dag-ghost" data-testid="new-task-ghost" style={drop.ghost} aria-hidden="true" />}
      {drop && (
        <NewTaskForm
          key={`${drop.kind}@${drop.flow.x},${drop.flow.y}`}
          kind={drop.kind}
          at={drop.at}
          suggestion={suggestId(drop.kind, tasks.map((t) => t.id))}
          taken={tasks.map((t) => t.id)}
          inputChoices={inputChoicesFor(drop.kind)}
          defaultInput={defaultInputFor(drop.flow, inputChoicesFor(drop.kind))}
          onSubmit={(id, input) => void addDropped(drop, id, input)}
          onCancel={() => {
            // A cancelled click-to-add puts the view back where it was before making room.
            if (drop.restore) void flow.setViewport(drop.restore, { duration: FIT_MS });
            setDrop(null);
            focusCanvas();
          }}
        />
      )}

      {choice && (
        <EdgeChoice
          key={`${choice.plan.from}->${choice.plan.to}`}
          plan={choice.plan}
          at={choice.at}
          onChoose={chooseEdge}
          onCancel={() => {
            setChoice(null);
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

/** Room to keep nodes clear of: the palette and legend (left column) and the tools (top row). */
function fitInsets(el: HTMLElement): Insets {
  let left = 16;
  for (const c of el.querySelectorAll<HTMLElement>('.dag-palette, .dag-legend')) left = Math.max(left, c.offsetLeft + c.offsetWidth + 12);
  const tools = el.querySelector<HTMLElement>('.dag-tools');
  return { top: tools ? tools.offsetTop + tools.offsetHeight + 8 : 16, right: 16, bottom: 16, left };
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
