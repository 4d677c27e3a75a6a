// The frame both code cells (SQL, Python) share: header with its actions, the editor, a refused
// save, the pipeline check's problem, a file-changed note, the schema contract and the preview.
// Each cell supplies what differs: the language, how errors are located, how text is saved.
import type { ReactNode } from 'react';
import type { PlanCheck } from '../../api/types';
import { SchemaContract } from '../contract/SchemaContract';
import { CellActions, ConflictNote, SaveError, type CellProps } from './CellParts';
import { CellHeader } from './CellHeader';
import { CodeEditor, type CodeMarker } from './CodeEditor';
import { PreviewPanel } from './PreviewPanel';
import type { useCodeDraft } from './useCodeDraft';
import type { usePreview } from './usePreview';

/** Why the saved text would fail, planned over its inputs' schemas (from the pipeline's check). */
export type PlanProblem = PlanCheck['problems'][number];

export interface CodeCellProps extends CellProps {
  language: 'sql' | 'python';
  /** The extension of the task's own file: a check problem's line is shown only for it. */
  ext: '.sql' | '.py';
  /** How the conflict note names the text ("SQL", "code"). */
  what: string;
  text: ReturnType<typeof useCodeDraft>;
  preview: ReturnType<typeof usePreview>;
  /** Previews the editor's current text. */
  onRun: () => void;
  marker: CodeMarker | null;
  planProblem?: PlanProblem | null;
  /** Shown in the header before the actions (e.g. the file name). */
  headerExtra?: ReactNode;
}

export function CodeCell(props: CodeCellProps) {
  const { task, text, preview, planProblem, language } = props;
  const { dirty } = text;
  return (
    <section
      className={`nb-cell nb-${language}${props.selected ? ' selected' : ''}${props.maximized ? ' maximized' : ''}`}
      data-testid={`cell-${task.id}`}
      data-kind={language}
      onMouseDown={props.onSelect}
    >
      <CellHeader task={task} dirty={dirty} run={props.run}>
        {props.headerExtra}
        <CellActions
          task={task.id}
          onPreview={props.onRun}
          onSave={dirty ? text.save : null}
          saving={text.saving}
          onDelete={props.onDelete}
          maximized={props.maximized}
          onToggleMaximize={props.onToggleMaximize}
        />
      </CellHeader>
      <CodeEditor
        pipeline={props.pipeline}
        task={task.id}
        language={language}
        value={text.draft}
        valueVersion={text.draftVersion}
        theme={props.theme}
        marker={props.marker}
        autoFocus={props.autoFocus}
        fill={props.maximized}
        onChange={text.setDraft}
        onRun={props.onRun}
        onSave={text.save}
        onBlur={text.saveOnBlur}
        onFocus={props.onSelect}
      />
      <SaveError task={task.id} error={text.saveError} />
      {planProblem && !dirty && (
        <div className="error-box small nb-plan-problem" data-testid={`cell-plan-problem-${task.id}`}>
          Would fail when run{planProblem.line != null && planProblem.file?.endsWith(props.ext) ? ` (line ${planProblem.line})` : ''}:{' '}
          {planProblem.message.replace(/^task '[^']*' would fail: /, '')}
        </div>
      )}
      {text.conflict !== null && <ConflictNote task={task.id} what={props.what} onTake={text.takeFileVersion} onKeep={text.keepMine} />}
      <SchemaContract task={task.id} contract={task.schema} error={props.run?.error} />
      <PreviewPanel task={task.id} state={preview.state} themeKey={props.theme} onClose={preview.close} />
    </section>
  );
}
