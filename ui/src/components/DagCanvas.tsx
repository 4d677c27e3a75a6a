import {
  Background,
  Controls,
  Handle,
  MiniMap,
  Position,
  ReactFlow,
  useNodesState,
  type Edge as FlowEdge,
  type Node,
  type NodeProps,
} from '@xyflow/react';
import { memo, useEffect, useMemo, useState } from 'react';
import type { PipelineDetail } from '../api/types';
import type { TaskStates } from '../api/runState';
import { layoutDag, NODE_H, NODE_W, type Positions } from './layout';

type TaskNodeData = { id: string; kind: string; state: string; selected: boolean };
type TaskNode = Node<TaskNodeData, 'task'>;

const KIND_ICON: Record<string, string> = { source: '⇥', sql: 'Σ', validate: '✓', sink: '⇲', shell: '$' };

const TaskNodeView = memo(function TaskNodeView({ data }: NodeProps<TaskNode>) {
  return (
    <div
      className={`dag-node state-${data.state}${data.selected ? ' is-selected' : ''}`}
      data-testid={`node-${data.id}`}
      data-state={data.state}
      style={{ width: NODE_W, height: NODE_H }}
      title={`${data.id} (${data.kind}) — ${data.state}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="dag-node-kind">
        <span className="kind-icon">{KIND_ICON[data.kind] ?? '•'}</span> {data.kind}
        <span className="dag-node-state">{data.state === 'none' ? '' : data.state.replace('_', ' ')}</span>
      </div>
      <div className="dag-node-id">{data.id}</div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { task: TaskNodeView };

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

export function DagCanvas(props: {
  pipeline: PipelineDetail;
  states: TaskStates;
  hasRun: boolean;
  selectedTask: string | null;
  onSelectTask: (id: string | null) => void;
  colorMode: 'light' | 'dark';
}) {
  const { pipeline, states, hasRun, selectedTask, onSelectTask, colorMode } = props;
  const [positions, setPositions] = useState<{ key: string; pos: Positions } | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const [nodes, setNodes, onNodesChange] = useNodesState<TaskNode>([]);

  const layoutKey = useMemo(
    () => pipeline.name + '|' + pipeline.tasks.map((t) => t.id).join(',') + '|' + pipeline.edges.map((e) => `${e.from}>${e.to}`).join(','),
    [pipeline],
  );

  useEffect(() => {
    let alive = true;
    setLayoutError(null);
    layoutDag(pipeline.tasks, pipeline.edges)
      .then((pos) => alive && setPositions({ key: layoutKey, pos }))
      .catch((e: unknown) => alive && setLayoutError(String((e as Error)?.message ?? e)));
    return () => {
      alive = false;
    };
  }, [layoutKey, pipeline]);

  // Rebuild node data when layout, states or selection change; keep measured sizes.
  useEffect(() => {
    if (!positions || positions.key !== layoutKey) return;
    setNodes((prev) => {
      const byId = new Map(prev.map((n) => [n.id, n]));
      return pipeline.tasks.map((t) => {
        const old = byId.get(t.id);
        const state = states[t.id] ?? (hasRun ? 'pending' : 'none');
        return {
          ...(old ?? {}),
          id: t.id,
          type: 'task' as const,
          position: positions.pos[t.id] ?? { x: 0, y: 0 },
          data: { id: t.id, kind: t.kind, state, selected: t.id === selectedTask },
          draggable: false,
          connectable: false,
        };
      });
    });
  }, [positions, layoutKey, pipeline, states, hasRun, selectedTask, setNodes]);

  const edges: FlowEdge[] = useMemo(
    () =>
      pipeline.edges.map((e) => ({
        id: `${e.from}->${e.to}`,
        source: e.from,
        target: e.to,
        animated: states[e.from] === 'running' || states[e.to] === 'running',
      })),
    [pipeline.edges, states],
  );

  if (layoutError) return <div className="error-box pad">Layout failed: {layoutError}</div>;
  if (pipeline.tasks.length === 0)
    return <div className="empty center">This pipeline has no tasks. Add <code>[[task]]</code> entries to its pipeline.toml.</div>;
  const ready = positions?.key === layoutKey && nodes.length > 0;
  if (!ready) return <div className="muted center">Laying out…</div>;

  return (
    <ReactFlow
      key={layoutKey}
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      onNodesChange={onNodesChange}
      onNodeClick={(_, n) => onSelectTask(n.id)}
      onPaneClick={() => onSelectTask(null)}
      nodesDraggable={false}
      nodesConnectable={false}
      elementsSelectable={false}
      fitView
      fitViewOptions={{ padding: 0.2, maxZoom: 1.25 }}
      minZoom={0.1}
      colorMode={colorMode}
    >
      <Background gap={16} size={1} />
      <Controls showInteractive={false} />
      <MiniMap pannable zoomable style={{ width: 160, height: 100 }} bgColor="var(--bg-alt)" maskColor="rgba(127,127,127,0.15)" nodeColor={(n) => STATE_COLOR[(n.data as TaskNodeData).state] ?? '#999'} />
    </ReactFlow>
  );
}
