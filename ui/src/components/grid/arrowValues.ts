// Arrow JS values → cell text. apache-arrow hands back JS values that need care (ui-facts §4):
// 64-bit ints, Time64 and Duration are bigint; dates and timestamps are epoch-ms numbers (a float
// for µs/ns); decimals are unscaled big numbers (a Uint32Array of words).
import { DataType, TimeUnit, type Dictionary, type Decimal, type Time, type Timestamp, type Duration } from 'apache-arrow';

/** How one column's values read as text. `text` is exact (copy, status line); `display` may be shorter. */
export interface ColumnFormat {
  /** Short type name in Polars' words (i64, str, date, datetime[μs, UTC] …). */
  label: string;
  alignRight: boolean;
  text: (v: unknown) => string | null;
  display: (v: unknown) => string | null;
}

const UNIT_SHORT = ['s', 'ms', 'μs', 'ns'] as const;

/** Exact text of a decimal: the unscaled two's-complement words with the point put back. */
export function decimalText(words: Uint32Array, scale: number): string {
  let n = 0n;
  for (let i = words.length - 1; i >= 0; i--) n = (n << 32n) | BigInt(words[i] ?? 0);
  const bits = BigInt(words.length * 32);
  if (words.length > 0 && ((words[words.length - 1] ?? 0) & 0x80000000) !== 0) n -= 1n << bits;
  const neg = n < 0n;
  let digits = (neg ? -n : n).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) {
    digits += '0'.repeat(-scale);
  }
  return neg ? `-${digits}` : digits;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** YYYY-MM-DD of an epoch-ms day (UTC: Arrow dates carry no zone). */
export function dateText(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().slice(0, 10);
}

/**
 * ISO 8601 of an epoch-ms instant: "2023-05-01T12:00:00", ".123" when there are milliseconds,
 * ".123456" when a µs/ns column has sub-millisecond digits, "Z" when the column has a zone (the
 * instant is shown in UTC).
 */
export function timestampText(ms: number, unit: TimeUnit, tz: string | null | undefined): string {
  const whole = Math.floor(ms);
  const d = new Date(whole);
  if (Number.isNaN(d.getTime())) return String(ms);
  let s = d.toISOString().slice(0, -1); // drop "Z"
  const micros = unit >= TimeUnit.MICROSECOND ? Math.min(999, Math.round((ms - whole) * 1000)) : 0;
  if (micros > 0) s += String(micros).padStart(3, '0');
  else if (whole % 1000 === 0) s = s.slice(0, -4); // no sub-second part
  return tz ? `${s}Z` : s;
}

/** HH:MM:SS[.fff…] of a time of day in `unit`. */
export function timeText(v: number | bigint, unit: TimeUnit): string {
  const perSec = [1n, 1000n, 1000000n, 1000000000n][unit] ?? 1n;
  const n = BigInt(v);
  const secs = Number(n / perSec);
  const frac = n % perSec;
  let s = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}`;
  if (frac !== 0n) s += `.${frac.toString().padStart(String(perSec).length - 1, '0').replace(/0+$/, '')}`;
  return s;
}

/** A float shortened for display: at most 10 significant digits, no trailing zeros. */
export function shortFloat(n: number): string {
  const s = String(n);
  if (s.length <= 12 || !Number.isFinite(n)) return s;
  const p = n.toPrecision(10);
  if (p.includes('e')) return p.replace(/\.?0+e/, 'e');
  return p.includes('.') ? p.replace(/\.?0+$/, '') : p;
}

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** Nested values (structs, lists, maps) as compact JSON. */
export function nestedText(v: unknown): string {
  const j = (v as { toJSON?: () => unknown })?.toJSON?.() ?? v;
  if (ArrayBuffer.isView(j) && !(j instanceof DataView)) return JSON.stringify(Array.from(j as unknown as ArrayLike<unknown>), bigintSafe);
  return JSON.stringify(j, bigintSafe);
}

function hexText(b: Uint8Array): string {
  const max = 64;
  let s = '0x';
  for (let i = 0; i < Math.min(b.length, max); i++) s += (b[i] ?? 0).toString(16).padStart(2, '0');
  return b.length > max ? `${s}… (${b.length} bytes)` : s;
}

const plain = (v: unknown) => (v === null || v === undefined ? null : String(v));

function make(label: string, alignRight: boolean, text: (v: unknown) => string, display?: (v: unknown) => string): ColumnFormat {
  const t = (v: unknown) => (v === null || v === undefined ? null : text(v));
  const d = display ? (v: unknown) => (v === null || v === undefined ? null : display(v)) : t;
  return { label, alignRight, text: t, display: d };
}

/** The formatter of a column of Arrow type `type`. */
export function columnFormat(type: DataType): ColumnFormat {
  if (DataType.isDictionary(type)) {
    // Categorical / Enum: values come back decoded, format them as the dictionary's type.
    const inner = columnFormat((type as Dictionary).dictionary);
    return { ...inner, label: 'cat' };
  }
  if (DataType.isInt(type)) {
    const t = type as DataType & { isSigned: boolean; bitWidth: number };
    return { label: `${t.isSigned ? 'i' : 'u'}${t.bitWidth}`, alignRight: true, text: plain, display: plain };
  }
  if (DataType.isFloat(type)) {
    const bits = [16, 32, 64][(type as DataType & { precision: number }).precision] ?? 64;
    return make(`f${bits}`, true, String, (v) => shortFloat(Number(v)));
  }
  if (DataType.isDecimal(type)) {
    const t = type as Decimal;
    return make(`decimal(${t.precision},${t.scale})`, true, (v) => decimalText(v as Uint32Array, t.scale));
  }
  if (DataType.isBool(type)) return make('bool', false, (v) => (v ? 'true' : 'false'));
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isUtf8View(type)) return make('str', false, String);
  if (DataType.isDate(type)) return make('date', false, (v) => dateText(Number(v)));
  if (DataType.isTimestamp(type)) {
    const t = type as Timestamp;
    const label = `datetime[${UNIT_SHORT[t.unit]}${t.timezone ? `, ${t.timezone}` : ''}]`;
    return make(label, false, (v) => timestampText(Number(v), t.unit, t.timezone));
  }
  if (DataType.isTime(type)) {
    const t = type as Time;
    return make('time', false, (v) => timeText(v as number | bigint, t.unit));
  }
  if (DataType.isDuration(type)) {
    const t = type as Duration;
    return make(`duration[${UNIT_SHORT[t.unit]}]`, true, (v) => `${String(v)} ${UNIT_SHORT[t.unit]}`);
  }
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isBinaryView(type) || DataType.isFixedSizeBinary(type)) {
    return make('binary', false, (v) => hexText(v as Uint8Array));
  }
  if (DataType.isNull(type)) return make('null', false, () => '');
  if (DataType.isList(type) || DataType.isLargeList(type) || DataType.isFixedSizeList(type)) return make('list', false, nestedText);
  if (DataType.isStruct(type)) return make('struct', false, nestedText);
  return make(String(type).toLowerCase(), false, (v) => (typeof v === 'object' ? nestedText(v) : String(v)));
}
