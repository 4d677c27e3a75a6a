import { describe, expect, it } from 'vitest';
import { headerDetail, headerWidth, longestSample } from './header';

describe('header detail', () => {
  it('shows the type, the null count (zero too) and the whole-output range', () => {
    expect(headerDetail({ name: 'id', type: 'i64' })).toBe('i64');
    expect(headerDetail({ name: 'id', type: 'i64', stats: { nullCount: 0, min: '0', max: '9999999' } })).toBe('i64 · 0 null · 0 … 9999999');
    expect(headerDetail({ name: 'r', type: 'f64', stats: { nullCount: 1428572, min: '0.125', max: null } })).toBe(
      'f64 · 1,428,572 null · 0.125 … ∅',
    );
    expect(headerDetail({ name: 'e', type: 'str', stats: { nullCount: 3, min: null, max: null } })).toBe('str · 3 null');
  });

  it('sizes columns for the name, a sample value and (capped) the detail', () => {
    expect(headerWidth({ name: 'id', type: 'i64' })).toBe(79);
    expect(headerWidth({ name: 'x', type: 'str' }, 'a fairly long sample value here')).toBe(241);
    expect(headerWidth({ name: 'x', type: 'str', stats: { nullCount: 0, min: 'a'.repeat(80), max: 'b' } })).toBe(200);
  });

  it('keeps a name whole beside the sort mark and the hovered menu button', () => {
    // "monetary" (8 characters, ~60 px in the bold header font) once squeezed to "monet… ▼".
    const w = headerWidth({ name: 'monetary', type: 'f64', sort: { dir: 'desc', rank: null } });
    expect(w - 16 - 30 - 18).toBeGreaterThanOrEqual(60);
    expect(headerWidth({ name: 'monetary', type: 'f64', filtered: true })).toBe(w + 13);
  });
});

describe('longestSample', () => {
  it('takes the longest of the first rows, skipping nulls and unloaded cells', () => {
    const texts = [null, '0.125', undefined, '1249999.875', 'x'];
    expect(longestSample(5, (r) => texts[r])).toBe('1249999.875');
    expect(longestSample(5, (r) => texts[r], 2)).toBe('0.125');
    expect(longestSample(0, () => 'never')).toBe('');
  });
});
