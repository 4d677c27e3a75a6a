import { useEffect, useState } from 'react';

export type ThemePref = 'system' | 'light' | 'dark';
const KEY = 'polder.theme';

function systemDark(): boolean {
  return typeof window !== 'undefined' && !!window.matchMedia?.('(prefers-color-scheme: dark)').matches;
}

/** Theme preference (stored) and the effective theme; sets `data-theme` on <html>. */
export function useTheme(): { pref: ThemePref; effective: 'light' | 'dark'; cycle: () => void } {
  const [pref, setPref] = useState<ThemePref>(() => {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  });
  const [sysDark, setSysDark] = useState(systemDark);

  useEffect(() => {
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    if (!mq) return;
    const on = () => setSysDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);

  const effective = pref === 'system' ? (sysDark ? 'dark' : 'light') : pref;
  // Set during render (idempotent) so children that read CSS variables while rendering
  // (the grid theme) already see the new theme.
  if (typeof document !== 'undefined' && document.documentElement.dataset.theme !== effective) {
    document.documentElement.dataset.theme = effective;
  }

  const cycle = () => {
    const next: ThemePref = pref === 'system' ? 'light' : pref === 'light' ? 'dark' : 'system';
    if (next === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, next);
    setPref(next);
  };
  return { pref, effective, cycle };
}
