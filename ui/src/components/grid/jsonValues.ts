// Formatting of the JSON values a preview or a JSON page returns (the server already turned
// 64-bit integers, dates and decimals into JSON numbers or strings).

/** Type names (Polars' short names as the API reports them) whose values align right. */
const NUMERIC_TYPE = /^(i|u|f)\d+$|^(int|uint|float|double|decimal|numeric)/i;

export function isNumericType(type: string): boolean {
  return NUMERIC_TYPE.test(type);
}

/** Text of one JSON cell value; null/undefined give null (the caller shows a dimmed "null"). */
export function jsonCellText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}
