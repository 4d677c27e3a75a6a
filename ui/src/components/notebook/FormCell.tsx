// A non-SQL task (source, validate, sink, shell) as a compact settings form; Shift+Enter
// previews a source's first rows.
import { useEffect, useMemo, useRef, useState } from 'react';
import { patchTask } from '../../api/notebook';
import { SchemaContract } from '../contract/SchemaContract';
import { CellHeader } from './CellHeader';
import { PreviewPanel } from './PreviewPanel';
import { CellActions, SaveError, type CellProps } from './CellParts';
import { checkLines, fieldVisible, formValues, KIND_FIELDS, rebaseValues, settingsPatch, type FieldSpec, type FormValues } from './taskFields';
import { usePreview } from './usePreview';

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function FormCell(props: CellProps & { taskIds: string[] }) {
  const { client, pipeline, task } = props;
  const initial = useMemo(() => formValues(task.kind, task.settings), [task.kind, task.settings]);
  const [values, setValues] = useState<FormValues>(initial);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const preview = usePreview(client, pipeline, task.id, props.onSchema);

  // New settings from the runner (after a save, or an edit elsewhere) update the fields the user
  // is not editing; a field being typed in keeps its text (and its error).
  const shown = useRef(initial);
  useEffect(() => {
    const before = shown.current;
    shown.current = initial;
    setValues((current) => rebaseValues(before, initial, current));
  }, [initial]);

  const { patch } = settingsPatch(task.kind, task.settings, values);
  const dirty = Object.keys(patch).length > 0;
  const canPreview = task.kind === 'source';

  const save = async () => {
    const res = settingsPatch(task.kind, task.settings, values);
    setFieldErrors(res.errors);
    if (Object.keys(res.errors).length > 0 || Object.keys(res.patch).length === 0) return;
    setSaving(true);
    try {
      props.onPipelineChange(await patchTask(client, pipeline, task.id, res.patch));
      setSaveError(null);
    } catch (e) {
      setSaveError(errText(e));
    } finally {
      setSaving(false);
    }
  };

  const run = async () => {
    if (canPreview) await preview.run();
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Enter' && e.shiftKey) {
      e.preventDefault();
      // The preview reads the saved settings: save first so it shows what the form says.
      void (dirty ? save() : Promise.resolve()).then(run);
    } else if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey && !e.altKey && (e.target as HTMLElement).tagName === 'INPUT') {
      e.preventDefault();
      void save();
    } else if ((e.ctrlKey || e.metaKey) && e.key === 's') {
      e.preventDefault();
      void save();
    }
  };

  const checks = task.kind === 'validate' ? checkLines(task.settings.checks) : [];
  return (
    <section
      className={`nb-cell nb-form${props.selected ? ' selected' : ''}`}
      data-testid={`cell-${task.id}`}
      data-kind={task.kind}
      onMouseDown={props.onSelect}
      onKeyDown={onKeyDown}
    >
      <CellHeader task={task} dirty={dirty} run={props.run}>
        <CellActions task={task.id} onPreview={canPreview ? run : null} onSave={dirty ? save : null} saving={saving} onDelete={props.onDelete} />
      </CellHeader>
      <div className="nb-fields">
        {KIND_FIELDS[task.kind]
          .filter((f) => fieldVisible(f, values))
          .map((f) => (
            <Field
              key={f.key}
              task={task.id}
              spec={f}
              value={values[f.key] ?? ''}
              error={fieldErrors[f.key]}
              taskIds={props.taskIds.filter((t) => t !== task.id)}
              onChange={(v) => {
                setValues((prev) => ({ ...prev, [f.key]: v }));
                setFieldErrors(({ [f.key]: _, ...rest }) => rest);
              }}
            />
          ))}
        {checks.length > 0 && (
          <div className="nb-checks wide">
            <span className="nb-label">checks</span>
            <ul>
              {checks.map((c, i) => (
                <li key={i} className="mono">
                  {c}
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
      <SaveError task={task.id} error={saveError} />
      <SchemaContract task={task.id} contract={task.schema} error={props.run?.error} />
      <PreviewPanel task={task.id} state={preview.state} themeKey={props.theme} onClose={preview.close} />
    </section>
  );
}

function Field({
  task,
  spec,
  value,
  error,
  taskIds,
  onChange,
}: {
  task: string;
  spec: FieldSpec;
  value: string;
  error: string | undefined;
  taskIds: string[];
  onChange: (v: string) => void;
}) {
  const testId = `field-${task}-${spec.key}`;
  let input: React.ReactNode;
  if (spec.type === 'bool') {
    input = <input type="checkbox" checked={value === 'true'} onChange={(e) => onChange(e.target.checked ? 'true' : 'false')} data-testid={testId} />;
  } else if (spec.type === 'select' || spec.type === 'task') {
    const options = spec.type === 'task' ? taskIds : (spec.options ?? []);
    input = (
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        {!options.includes(value) && <option value={value}>{value || '—'}</option>}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else {
    input = (
      <input
        className={spec.type === 'char' || spec.type === 'number' ? 'narrow' : undefined}
        value={value}
        placeholder={spec.placeholder}
        spellCheck={false}
        onChange={(e) => onChange(e.target.value)}
        data-testid={testId}
      />
    );
  }
  return (
    <label className={`nb-field${spec.wide ? ' wide' : ''}${error ? ' invalid' : ''}`} title={error}>
      <span className="nb-label">{spec.label}</span>
      {input}
      {error && <span className="err small">{error}</span>}
    </label>
  );
}
