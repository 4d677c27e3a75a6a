import { BaseEdge, getBezierPath, type Edge, type EdgeProps } from '@xyflow/react';
import { memo } from 'react';
import type { EdgeKind } from './dataEdge';

export type DagEdgeData = {
  kind: EdgeKind;
  /** The downstream task is running: a dot travels along the edge (the line keeps its style). */
  active: boolean;
  /** Tooltip: what the edge means and where it comes from. */
  title: string;
};
export type DagFlowEdge = Edge<DagEdgeData, 'dag'>;

/**
 * An edge drawn as its meaning: solid for "reads from", dashed for "runs after" (the CSS of
 * `.edge-data` / `.edge-order`), with an arrow; while data flows into a running task a dot moves
 * along it — xyflow's own `animated` would dash every edge and blur that difference.
 */
export const DagEdgeView = memo(function DagEdgeView(props: EdgeProps<DagFlowEdge>) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, markerEnd, data, interactionWidth } = props;
  const [path] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  return (
    <>
      {data?.title && <title>{data.title}</title>}
      <BaseEdge id={id} path={path} markerEnd={markerEnd} interactionWidth={interactionWidth} />
      {data?.active && (
        <circle r={4} className="dag-edge-flow">
          <animateMotion dur="1.2s" repeatCount="indefinite" path={path} />
        </circle>
      )}
    </>
  );
});

export const edgeTypes = { dag: DagEdgeView };

/** The legend of edge styles, in the canvas's corner. */
export function EdgeLegend() {
  return (
    <div className="dag-legend" data-testid="canvas-legend" aria-label="Edge legend">
      <span className="dag-legend-item" data-testid="legend-data" title="The task reads the upstream's output: its SQL names the table, its Python function takes it as a parameter, or it is the `input` of a check or sink">
        <svg width="26" height="8" aria-hidden="true">
          <line x1="1" y1="4" x2="19" y2="4" className="dag-legend-line" />
          <polygon points="19,0.5 25,4 19,7.5" className="dag-legend-arrow" />
        </svg>
        reads from
      </span>
      <span className="dag-legend-item" data-testid="legend-order" title="The task only runs after the upstream (`inputs` in pipeline.toml)">
        <svg width="26" height="8" aria-hidden="true">
          <line x1="1" y1="4" x2="19" y2="4" className="dag-legend-line dashed" />
          <polygon points="19,0.5 25,4 19,7.5" className="dag-legend-arrow" />
        </svg>
        runs after
      </span>
    </div>
  );
}
