import { describe, expect, it } from 'vitest';
import { actionFor, display, matches } from './shortcuts';

const key = (k: string, m: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...m,
});

describe('shortcuts', () => {
  it('maps Mod to Ctrl elsewhere and to Cmd on macOS', () => {
    expect(actionFor(key('Enter', { ctrlKey: true }), false)).toBe('run');
    expect(actionFor(key('Enter', { ctrlKey: true }), true)).toBeNull();
    expect(actionFor(key('Enter', { metaKey: true }), true)).toBe('run');
  });

  it('tells run from force run by Shift', () => {
    expect(actionFor(key('Enter', { ctrlKey: true, shiftKey: true }), false)).toBe('force-run');
  });

  it('compares letters case-blind and shifted symbols as typed', () => {
    expect(actionFor(key('P', { ctrlKey: true }), false)).toBe('quick-open');
    expect(actionFor(key('L', { ctrlKey: true, shiftKey: true }), false)).toBe('toggle-theme');
    expect(actionFor(key('?', { shiftKey: true }), false)).toBe('help');
    expect(actionFor(key('?'), false)).toBeNull();
  });

  it('opens the connections with Mod+Shift+K', () => {
    expect(actionFor(key('K', { ctrlKey: true, shiftKey: true }), false)).toBe('connections');
    expect(actionFor(key('k', { ctrlKey: true }), false)).toBeNull();
  });

  it('moves the focus between panels with F6 and Shift+F6, and toggles them', () => {
    expect(actionFor(key('F6'), false)).toBe('focus-next');
    expect(actionFor(key('F6', { shiftKey: true }), false)).toBe('focus-prev');
    expect(actionFor(key('b', { ctrlKey: true }), false)).toBe('toggle-explorer');
    expect(actionFor(key('B', { ctrlKey: true, shiftKey: true }), false)).toBe('toggle-runs');
    expect(actionFor(key('j', { metaKey: true }), true)).toBe('toggle-output');
  });

  it('refuses extra modifiers', () => {
    expect(matches('Mod+1', key('1', { ctrlKey: true, altKey: true }), false)).toBe(false);
    expect(matches('Mod+1', key('1', { ctrlKey: true, metaKey: true }), false)).toBe(false);
    expect(actionFor(key('Enter'), false)).toBeNull();
  });

  it('displays combos per platform', () => {
    expect(display('Mod+Shift+Enter', false)).toBe('Ctrl+Shift+Enter');
    expect(display('Mod+Shift+Enter', true)).toBe('⌘⇧Enter');
  });
});
