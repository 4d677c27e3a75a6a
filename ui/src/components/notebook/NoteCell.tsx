// A markdown note between task cells: rendered (raw HTML shown as text), edited in a textarea
// on double-click or Enter; Shift+Enter (as in cells), Escape or leaving the field ends the edit.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Note } from '../../api/notebook';
import { renderMarkdown } from './markdown';

export function NoteCell({
  note,
  startEditing,
  onCommit,
  onDelete,
}: {
  note: Note;
  startEditing: boolean;
  onCommit: (text: string) => void;
  onDelete: () => void;
}) {
  const [editing, setEditing] = useState(startEditing);
  const [text, setText] = useState(note.text);
  const area = useRef<HTMLTextAreaElement>(null);
  const html = useMemo(() => renderMarkdown(note.text), [note.text]);

  useEffect(() => {
    if (!editing) setText(note.text);
  }, [note.text, editing]);

  // The textarea grows with its text.
  useLayoutEffect(() => {
    const a = area.current;
    if (!a) return;
    a.style.height = 'auto';
    a.style.height = `${a.scrollHeight + 2}px`;
  }, [text, editing]);

  useEffect(() => {
    if (editing) area.current?.focus();
  }, [editing]);

  const finish = () => {
    setEditing(false);
    onCommit(text);
  };

  return (
    <section className={`nb-note${editing ? ' editing' : ''}`} data-testid={`note-${note.id}`}>
      <div className="nb-note-tools">
        {!editing && (
          <button className="icon" onClick={() => setEditing(true)} title="Edit (double-click)" data-testid={`note-edit-${note.id}`}>
            ✎
          </button>
        )}
        <button className="icon" onClick={onDelete} title="Delete this note" data-testid={`note-delete-${note.id}`}>
          ✕
        </button>
      </div>
      {editing ? (
        <textarea
          ref={area}
          className="nb-note-input"
          value={text}
          placeholder="Markdown: # heading, **bold**, `code`, - lists…  (Shift+Enter to finish)"
          spellCheck
          onChange={(e) => setText(e.target.value)}
          onBlur={finish}
          onKeyDown={(e) => {
            if (e.key === 'Escape' || (e.key === 'Enter' && e.shiftKey)) {
              e.preventDefault();
              // Not the app's shortcuts too.
              e.stopPropagation();
              finish();
            }
          }}
          data-testid={`note-input-${note.id}`}
        />
      ) : (
        <div
          className="nb-note-body"
          tabIndex={0}
          onDoubleClick={() => setEditing(true)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              setEditing(true);
            }
          }}
          // renderMarkdown escapes raw HTML and unsafe URLs (markdown.test.ts).
          dangerouslySetInnerHTML={{ __html: html || '<p class="muted">Empty note: double-click to write.</p>' }}
        />
      )}
    </section>
  );
}
