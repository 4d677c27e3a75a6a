import { describe, expect, it } from 'vitest';
import { appendLines, atBottom, emptyLog, logFromText } from './logBuffer';

describe('log buffer', () => {
  it('appends lines and drops the oldest beyond the cap, counting them', () => {
    let b = appendLines(emptyLog(), ['a', 'b'], 3);
    b = appendLines(b, ['c', 'd', 'e'], 3);
    expect(b).toEqual({ lines: ['c', 'd', 'e'], dropped: 2 });
  });
  it('reads a whole log text without a phantom last line', () => {
    expect(logFromText('one\r\ntwo\n').lines).toEqual(['one', 'two']);
    expect(logFromText('').lines).toEqual([]);
    expect(logFromText('x\n\ny').lines).toEqual(['x', '', 'y']);
  });
});

describe('atBottom', () => {
  it('is true within the slack of the end and false once scrolled up', () => {
    expect(atBottom(600, 400, 1000)).toBe(true);
    expect(atBottom(590, 400, 1000)).toBe(true);
    expect(atBottom(500, 400, 1000)).toBe(false);
    // Content shorter than the view: always at the bottom.
    expect(atBottom(0, 400, 300)).toBe(true);
  });
});
