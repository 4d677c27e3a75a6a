// The text of a code cell (SQL or Python) against its task's saved text: the user's draft, saving
// it through the runner (refused saves keep the text and say why), and the file changing on disk
// while the user has unsaved edits (their text is kept; the file's version is offered).
import { useEffect, useRef, useState } from 'react';
import type { PipelineDetail } from '../../api/types';

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function useCodeDraft(saved: string, write: (text: string) => Promise<PipelineDetail>, onSaved: (p: PipelineDetail) => void) {
  const [draft, setDraft] = useState(saved);
  // Bumped when the draft is replaced from outside (the editor then takes `draft`).
  const [draftVersion, setDraftVersion] = useState(0);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const lastSaved = useRef(saved);
  const draftRef = useRef(draft);
  draftRef.current = draft;

  // The file's text while the user had unsaved edits of an older one: shown, never applied silently.
  const [conflict, setConflict] = useState<string | null>(null);

  // The spec changed elsewhere (another view, an editor, a git pull): adopt it unless the user
  // is editing; then keep their text and say the file changed.
  useEffect(() => {
    if (draftRef.current === lastSaved.current && draftRef.current !== saved) {
      setDraft(saved);
      setDraftVersion((v) => v + 1);
    } else if (saved !== lastSaved.current && draftRef.current !== saved) {
      setConflict(saved);
    }
    lastSaved.current = saved;
  }, [saved]);

  const takeFileVersion = () => {
    if (conflict === null) return;
    setDraft(conflict);
    setDraftVersion((v) => v + 1);
    setConflict(null);
  };

  // Plain functions: the editor calls the latest ones through its own ref.
  const save = async () => {
    const text = draftRef.current;
    if (text === lastSaved.current || saving) return;
    setSaving(true);
    try {
      const detail = await write(text);
      setSaveError(null);
      setConflict(null);
      lastSaved.current = text;
      onSaved(detail);
    } catch (e) {
      // The runner rejected the edit and left the files alone: keep the text, say why.
      setSaveError(errText(e));
    } finally {
      setSaving(false);
    }
  };

  // Leaving the editor saves, except while the file changed under the user's edits: writing
  // their text then would silently drop the change on disk. Ctrl+S still saves theirs on purpose.
  const saveOnBlur = () => {
    if (conflict === null) void save();
  };

  return {
    draft,
    /** The latest draft, for callbacks bound earlier. */
    draftRef,
    draftVersion,
    setDraft,
    dirty: draft !== saved,
    saving,
    saveError,
    save,
    saveOnBlur,
    conflict,
    takeFileVersion,
    keepMine: () => setConflict(null),
  };
}
