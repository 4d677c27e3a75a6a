import { Field, makeData, makeVector, Decimal, Int64, TimestampMicrosecond, Utf8, vectorFromArray, DateDay, TimeMicrosecond, Struct, Float64, TimeUnit, Bool, Dictionary, Int32 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { columnFormat, dateText, decimalText, shortFloat, timeText, timestampText } from './arrowValues';

describe('Arrow value formatting', () => {
  it('decimals: exact text from the unscaled words, negative and 256-bit too', () => {
    const type = new Decimal(2, 10, 128);
    const words = new BigInt64Array([123n, 0n, -4567n, -1n, 5n, 0n]);
    const v = makeVector(makeData({ type, length: 3, data: new Uint32Array(words.buffer) }));
    const f = columnFormat(v.type);
    expect(f.label).toBe('decimal(10,2)');
    expect(f.alignRight).toBe(true);
    expect(f.text(v.get(0))).toBe('1.23');
    expect(f.text(v.get(1))).toBe('-45.67');
    expect(f.text(v.get(2))).toBe('0.05');
    expect(decimalText(new Uint32Array([123, 0, 0, 0, 0, 0, 0, 0]), 2)).toBe('1.23');
    expect(decimalText(new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]), 0)).toBe('-1');
    expect(decimalText(new Uint32Array([5, 0, 0, 0]), -2)).toBe('500');
  });

  it('64-bit integers are bigint and print exactly', () => {
    const v = vectorFromArray([9007199254740993n, -1n, null], new Int64());
    const f = columnFormat(v.type);
    expect(f.label).toBe('i64');
    expect(typeof v.get(0)).toBe('bigint');
    expect(f.text(v.get(0))).toBe('9007199254740993');
    expect(f.text(v.get(1))).toBe('-1');
    expect(f.text(v.get(2))).toBeNull();
  });

  it('dates as YYYY-MM-DD and timestamps as ISO with µs when present', () => {
    const d = vectorFromArray([Date.UTC(2020, 0, 1), Date.UTC(1969, 11, 31)], new DateDay());
    const fd = columnFormat(d.type);
    expect(fd.label).toBe('date');
    expect(fd.text(d.get(0))).toBe('2020-01-01');
    expect(fd.text(d.get(1))).toBe('1969-12-31');
    expect(dateText(1577836800000)).toBe('2020-01-01');

    const t = vectorFromArray([1700000000123.456, 1700000000000], new TimestampMicrosecond());
    const ft = columnFormat(t.type);
    expect(ft.label).toBe('datetime[μs]');
    expect(ft.text(t.get(0))).toBe('2023-11-14T22:13:20.123456');
    expect(ft.text(t.get(1))).toBe('2023-11-14T22:13:20');
    expect(timestampText(1700000000500, TimeUnit.MILLISECOND, 'UTC')).toBe('2023-11-14T22:13:20.500Z');
  });

  it('times of day from bigint µs; floats shortened for display only', () => {
    const v = vectorFromArray([3723000000n, 3723500000n], new TimeMicrosecond());
    const f = columnFormat(v.type);
    expect(f.text(v.get(0))).toBe('01:02:03');
    expect(f.text(v.get(1))).toBe('01:02:03.5');
    expect(timeText(45296789, TimeUnit.MILLISECOND)).toBe('12:34:56.789');

    const x = vectorFromArray([1 / 7, 2.5, 1e21 / 3], new Float64());
    const fx = columnFormat(x.type);
    expect(fx.label).toBe('f64');
    expect(fx.text(x.get(0))).toBe('0.14285714285714285');
    expect(fx.display(x.get(0))).toBe('0.1428571429');
    expect(fx.display(x.get(1))).toBe('2.5');
    expect(shortFloat(1e21 / 3)).toBe('3.333333333e+20');
  });

  it('strings, booleans, dictionaries and structs', () => {
    const s = vectorFromArray(['row 1', null], new Utf8());
    expect(columnFormat(s.type).text(s.get(0))).toBe('row 1');
    expect(columnFormat(s.type).alignRight).toBe(false);
    const b = vectorFromArray([true, false], new Bool());
    expect(columnFormat(b.type).text(b.get(1))).toBe('false');
    const dict = vectorFromArray(['Champions', 'Loyal', 'Champions'], new Dictionary(new Utf8(), new Int32()));
    expect(columnFormat(dict.type).label).toBe('cat');
    expect(columnFormat(dict.type).text(dict.get(2))).toBe('Champions');
    const st = vectorFromArray([{ a: 1n, b: 'x' }], new Struct([new Field('a', new Int64()), new Field('b', new Utf8())]));
    expect(columnFormat(st.type).text(st.get(0))).toBe('{"a":"1","b":"x"}');
  });
});
