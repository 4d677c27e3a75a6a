import './overlay.css';
import { useMemo, useState } from 'react';
import type { PipelineSummary } from '../api/types';

/** Ranks names for a typed query: prefix matches first, then substrings, then subsequences. */
export function rankNames(names: string[], query: string): string[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...names].sort();
  const score = (n: string): number => {
    const l = n.toLowerCase();
    if (l.startsWith(q)) return 0;
    if (l.includes(q)) return 1;
    let i = 0;
    for (const c of l) if (c === q[i]) i++;
    return i === q.length ? 2 : -1;
  };
  return names
    .map((n) => [n, score(n)] as const)
    .filter(([, s]) => s >= 0)
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .map(([n]) => n);
}

/** Ctrl+P: type part of a pipeline's name, Enter opens it. */
export function QuickOpen({
  pipelines,
  onOpen,
  onClose,
}: {
  pipelines: PipelineSummary[];
  onOpen: (name: string) => void;
  onClose: () => void;
}) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const names = useMemo(() => pipelines.map((p) => p.name).filter((n): n is string => !!n), [pipelines]);
  const hits = useMemo(() => rankNames(names, query).slice(0, 20), [names, query]);
  const pick = (name: string | undefined) => {
    if (name) onOpen(name);
    onClose();
  };
  return (
    <div className="overlay" onClick={onClose}>
      <div className="dialog quick-open" onClick={(e) => e.stopPropagation()} role="dialog" aria-label="Open a pipeline">
        <input
          autoFocus
          data-testid="quick-open-input"
          placeholder="Pipeline name…"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') onClose();
            else if (e.key === 'Enter') pick(hits[active]);
            else if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, hits.length - 1));
            else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
            else return;
            e.preventDefault();
          }}
        />
        <ul>
          {hits.map((n, i) => (
            <li key={n} className={i === active ? 'active' : ''} onMouseDown={() => pick(n)}>
              {n}
            </li>
          ))}
          {hits.length === 0 && <li className="muted">No pipeline matches “{query}”.</li>}
        </ul>
      </div>
    </div>
  );
}
