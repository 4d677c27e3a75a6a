/** Keyboard shortcuts: one table of app-wide actions, so the handler and the help overlay agree. */

/** A key combination like `Mod+Enter`, `Shift+?` or `Mod+Shift+Enter`; `Mod` is Ctrl, or ⌘ on macOS. */
export type Combo = string;

export interface Shortcut {
  /** Action id the app binds a handler to. */
  id: string;
  combo: Combo;
  /** What it does, for the help overlay. */
  label: string;
}

/** App-wide shortcuts. Views add their own (canvas: Delete, F2, Ctrl+Z; notebook: Shift+Enter, Ctrl+S), listed in `VIEW_SHORTCUTS`. */
export const SHORTCUTS: Shortcut[] = [
  { id: 'run', combo: 'Mod+Enter', label: 'Run the pipeline' },
  { id: 'force-run', combo: 'Mod+Shift+Enter', label: 'Force run (ignore the cache)' },
  { id: 'quick-open', combo: 'Mod+P', label: 'Open a pipeline by name' },
  { id: 'view-canvas', combo: 'Mod+1', label: 'Show the canvas' },
  { id: 'view-notebook', combo: 'Mod+2', label: 'Show the notebook' },
  { id: 'connections', combo: 'Mod+Shift+K', label: 'Show the connections (S3 and other data stores)' },
  { id: 'focus-next', combo: 'F6', label: 'Move the focus to the next panel (explorer, main view, runs, output)' },
  { id: 'focus-prev', combo: 'Shift+F6', label: 'Move the focus to the previous panel' },
  { id: 'toggle-explorer', combo: 'Mod+B', label: 'Show or hide the explorer' },
  { id: 'toggle-runs', combo: 'Mod+Shift+B', label: 'Show or hide the runs panel' },
  { id: 'toggle-output', combo: 'Mod+J', label: 'Show or hide the output panel' },
  { id: 'toggle-theme', combo: 'Mod+Shift+L', label: 'Cycle the theme (system, light, dark)' },
  { id: 'help', combo: 'Shift+?', label: 'Show these shortcuts' },
];

/** Shortcuts handled inside a view, listed in the help overlay only. */
export const VIEW_SHORTCUTS: { view: string; combo: Combo; label: string }[] = [
  { view: 'Notebook', combo: 'Shift+Enter', label: 'Preview the cell' },
  { view: 'Notebook', combo: 'Mod+S', label: 'Save the cell' },
  { view: 'Notebook', combo: 'Mod+Space', label: 'Complete tables and columns' },
  { view: 'Canvas', combo: 'Delete', label: 'Delete the selected task or edge' },
  { view: 'Canvas', combo: 'F2', label: 'Rename the selected task' },
  { view: 'Canvas', combo: 'Mod+Z', label: 'Undo' },
  { view: 'Canvas', combo: 'Mod+Shift+Z', label: 'Redo' },
  { view: 'Canvas', combo: 'F', label: 'Fit the graph in view' },
  { view: 'Grid', combo: 'Mod+C', label: 'Copy the selected cells' },
];

interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/** True when `e` is the combination `combo` (`mac` decides whether Mod is ⌘ or Ctrl). */
export function matches(combo: Combo, e: KeyLike, mac: boolean): boolean {
  const parts = combo.split('+');
  const key = parts[parts.length - 1]!;
  const mods = new Set(parts.slice(0, -1));
  const wantMod = mods.has('Mod');
  const mod = mac ? e.metaKey : e.ctrlKey;
  const other = mac ? e.ctrlKey : e.metaKey;
  if (wantMod !== mod || other) return false;
  // A shifted symbol (`?`) is reported as the symbol itself; letters are compared case-blind.
  if (mods.has('Shift') !== e.shiftKey) return false;
  if (mods.has('Alt') !== e.altKey) return false;
  return e.key.toLowerCase() === key.toLowerCase();
}

/** The action a key event triggers, if any. */
export function actionFor(e: KeyLike, mac: boolean, table: Shortcut[] = SHORTCUTS): string | null {
  return table.find((s) => matches(s.combo, e, mac))?.id ?? null;
}

/** A combo as the user's keyboard shows it: `Ctrl+Enter`, or `⌘Enter` on macOS. */
export function display(combo: Combo, mac: boolean): string {
  return combo
    .split('+')
    .map((p) => (p === 'Mod' ? (mac ? '⌘' : 'Ctrl') : p === 'Shift' && mac ? '⇧' : p))
    .join(mac ? '' : '+');
}

/** True when the keystroke belongs to a text field or an editor, which keeps plain keys for itself. */
export function inTextField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.closest !== 'function') return false;
  return !!el.closest('input, textarea, select, [contenteditable="true"], .monaco-editor');
}

export const isMac = (): boolean => typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
