import { useLayoutEffect, useRef } from 'react';
import type { TaskDef, TaskRun } from '../../api/types';
import { locatePythonError, pythonChangedSince } from '../../python/errorLocation';
import { locateSqlError, sqlChangedSince, type SqlLocation, type SqlRange } from '../../sql/errorLocation';
import { pythonLines } from './pythonHighlight';
import { markColumn, sqlLines, type HighlightToken } from './sqlHighlight';

/** A task run as the runner sends it now: `error_location` is set for failed SQL and Python tasks. */
export type TaskRunWithLocation = TaskRun & { error_location?: SqlLocation | null };

/** The SQL text of a SQL task's definition, if it has one. */
export function taskSql(def: TaskDef | null | undefined): string | null {
  if (!def || def.kind !== 'sql') return null;
  const sql = def.settings.sql;
  return typeof sql === 'string' ? sql : null;
}

/** The text of a SQL or Python task's definition, with its language, if it has one. */
export function taskCode(def: TaskDef | null | undefined): { text: string; language: 'sql' | 'python' } | null {
  if (def?.kind === 'python') return typeof def.settings.code === 'string' ? { text: def.settings.code, language: 'python' } : null;
  const sql = taskSql(def);
  return sql === null ? null : { text: sql, language: 'sql' };
}

/**
 * A failed task: its error message (a broken schema contract's lists its violations), and for
 * a SQL or Python task its text with the line the error points at highlighted and the token at
 * the column marked. The text is the task's current one, which is what the user will fix.
 */
export function FailedSql({ run, def, withSql = true }: { run: TaskRunWithLocation; def: TaskDef | null; withSql?: boolean }) {
  const code = withSql ? taskCode(def) : null;
  const file = typeof def?.settings.file === 'string' ? def.settings.file : null;
  const python = code?.language === 'python';
  // After an edit the quoted text is gone and any position found today would mislead.
  const changed = code != null && (python ? pythonChangedSince(run.error, code.text, file) : sqlChangedSince(run.error, code.text));
  const loc =
    code == null || changed
      ? null
      : python
        ? locatePythonError(run.error, code.text, run.error_location, file)
        : locateSqlError(run.error, code.text, run.error_location);
  const what = python ? 'code' : 'SQL';
  return (
    <div className="failed" data-testid="failed-task">
      <pre className="failed-msg" data-testid="failed-message">
        {run.error ?? `${run.task_id} ${run.status.replace('_', ' ')}`}
      </pre>
      {code != null && (
        <>
          <div className="failed-sql-title muted">
            <span className="mono">{file ?? `${run.task_id} (inline ${python ? 'Python' : 'SQL'})`}</span>
            {loc ? (
              <span data-testid="failed-location">
                {' '}
                · line {loc.line}, column {loc.column}
              </span>
            ) : changed ? (
              <span data-testid="failed-sql-changed"> · the {what} has changed since this run (shown as it is now)</span>
            ) : (
              <span> · no position in the message</span>
            )}
          </div>
          <SqlView lines={(python ? pythonLines : sqlLines)(code.text.replace(/\n$/, ''))} loc={loc} />
        </>
      )}
    </div>
  );
}

/** The task's text, line by line, the error's line highlighted and its token marked. */
function SqlView({ lines, loc }: { lines: HighlightToken[][]; loc: SqlRange | null }) {
  const text = lines.map((l) => l.map((t) => t.text).join('')).join('\n');
  const box = useRef<HTMLDivElement | null>(null);
  // Long queries: bring the failing line into view inside the panel.
  useLayoutEffect(() => {
    box.current?.querySelector('.sqlv-line.err')?.scrollIntoView({ block: 'nearest' });
  }, [text, loc?.line]);
  return (
    <div className="sqlv" data-testid="failed-sql" ref={box}>
      {lines.map((toks, i) => {
        const n = i + 1;
        const isErr = loc?.line === n;
        const shown = isErr ? markColumn(toks, loc.column) : toks;
        return (
          <div
            key={n}
            className={isErr ? 'sqlv-line err' : 'sqlv-line'}
            data-testid={isErr ? 'sql-error-line' : undefined}
            data-line={n}
          >
            <span className="sqlv-no">{n}</span>
            <code className="sqlv-code">
              {shown.map((t, j) =>
                t.error ? (
                  <span key={j} className={`tk-${t.kind} sqlv-mark`} data-testid="sql-error-mark" data-column={loc?.column}>
                    {t.text}
                  </span>
                ) : (
                  <span key={j} className={`tk-${t.kind}`}>
                    {t.text}
                  </span>
                ),
              )}
              {toks.length === 0 && ' '}
            </code>
          </div>
        );
      })}
    </div>
  );
}
