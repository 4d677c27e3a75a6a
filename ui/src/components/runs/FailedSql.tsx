import { useLayoutEffect, useRef } from 'react';
import type { TaskDef, TaskRun } from '../../api/types';
import { locateSqlError, sqlChangedSince, type SqlLocation, type SqlRange } from '../../sql/errorLocation';
import { markColumn, sqlLines } from './sqlHighlight';

/** A task run as the runner sends it now: `error_location` is set for failed SQL tasks. */
export type TaskRunWithLocation = TaskRun & { error_location?: SqlLocation | null };

/** The SQL text of a SQL task's definition, if it has one. */
export function taskSql(def: TaskDef | null | undefined): string | null {
  if (!def || def.kind !== 'sql') return null;
  const sql = def.settings.sql;
  return typeof sql === 'string' ? sql : null;
}

/**
 * A failed task: its error message, and for a SQL task its SQL with the line the error points at
 * highlighted and the token at the column marked. The SQL is the task's current text, which is
 * what the user will fix.
 */
export function FailedSql({ run, def, withSql = true }: { run: TaskRunWithLocation; def: TaskDef | null; withSql?: boolean }) {
  const sql = withSql ? taskSql(def) : null;
  // After an edit the quoted SQL is gone and any position found today would mislead.
  const changed = sql != null && sqlChangedSince(run.error, sql);
  const loc = sql != null && !changed ? locateSqlError(run.error, sql, run.error_location) : null;
  const file = typeof def?.settings.file === 'string' ? def.settings.file : null;
  return (
    <div className="failed" data-testid="failed-task">
      <pre className="failed-msg" data-testid="failed-message">
        {run.error ?? `${run.task_id} ${run.status.replace('_', ' ')}`}
      </pre>
      {sql != null && (
        <>
          <div className="failed-sql-title muted">
            <span className="mono">{file ?? `${run.task_id} (inline SQL)`}</span>
            {loc ? (
              <span data-testid="failed-location">
                {' '}
                · line {loc.line}, column {loc.column}
              </span>
            ) : changed ? (
              <span data-testid="failed-sql-changed"> · the SQL has changed since this run (shown as it is now)</span>
            ) : (
              <span> · no position in the message</span>
            )}
          </div>
          <SqlView sql={sql} loc={loc} />
        </>
      )}
    </div>
  );
}

function SqlView({ sql, loc }: { sql: string; loc: SqlRange | null }) {
  const lines = sqlLines(sql.replace(/\n$/, ''));
  const box = useRef<HTMLDivElement | null>(null);
  // Long queries: bring the failing line into view inside the panel.
  useLayoutEffect(() => {
    box.current?.querySelector('.sqlv-line.err')?.scrollIntoView({ block: 'nearest' });
  }, [sql, loc?.line]);
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
