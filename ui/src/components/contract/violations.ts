// A task's schema contract in words: one declared column as text, and the violations a failed
// run lists. The runner's message is `schema contract of task '<id>' failed:` followed by one
// violation per line (`- …`).

import type { ContractColumn } from '../../api/types';

export interface ContractFailure {
  task: string;
  violations: string[];
}

const HEAD = /^\s*schema contract of task '([^']*)' failed:?[ \t]*(.*)$/m;

/** The violations of a contract failure, or null when `error` is another kind of failure. */
export function contractFailure(error: string | null | undefined): ContractFailure | null {
  if (!error) return null;
  const m = HEAD.exec(error);
  if (!m) return null;
  const rest = error.slice(m.index + m[0].length).split('\n');
  const violations = rest.flatMap((l) => {
    const v = /^\s*-\s+(.*\S)\s*$/.exec(l);
    return v ? [v[1]!] : [];
  });
  // A single violation may follow the colon on the same line.
  if (violations.length === 0 && m[2]!.trim()) violations.push(m[2]!.trim().replace(/^-\s+/, ''));
  return { task: m[1]!, violations };
}

/** The rules of a declared column besides its type, in words (`not null`, `unique`). */
export function columnRules(c: ContractColumn): string[] {
  const out: string[] = [];
  if (c.not_null) out.push('not null');
  if (c.unique) out.push('unique');
  return out;
}
