import { describe, expect, it } from 'vitest';
import { appendLines, atBottom, emptyLog, findMatches, lineLevel, lineLevels, linePieces, logFileName, logFromText, matchCountText, stepMatch } from './logBuffer';

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

describe('log levels', () => {
  it('reads the level after the time prefix', () => {
    expect(lineLevel('23:20:49.883 error: no files match data/logs/*.json')).toBe('error');
    expect(lineLevel('23:20:49.883 FAIL unique(contract): 3 duplicates')).toBe('error');
    expect(lineLevel('23:20:49.883 warning: slow')).toBe('warn');
    expect(lineLevel('23:20:49.883 WARN expr(monetary > 0): 2 rows')).toBe('warn');
    expect(lineLevel('23:20:52.893 ok   not_null(contract)')).toBe('ok');
    expect(lineLevel('23:20:52.893 | tick 3')).toBe('output');
    expect(lineLevel('23:20:52.672 20,000 rows')).toBe('info');
    // Only at the start of the message: a word inside it does not count.
    expect(lineLevel('23:20:52.672 engine: duckdb (no error: here)')).toBe('info');
    expect(lineLevel('error: without a time')).toBe('error');
  });
});

describe('multi-line messages', () => {
  it('continue the level of the error or warning they belong to (same time)', () => {
    const lines = [
      '12:00:00.100 engine: duckdb',
      '12:00:00.100 SELECT 1',
      '12:00:00.200 error: SQL error: Binder Error',
      '12:00:00.200 Candidate bindings: "amount"',
      '12:00:00.200 ',
      '12:00:00.300 next thing',
      '12:00:00.400 WARN expr(x > 0): 2 rows',
      '12:00:00.400 detail',
      '12:00:00.400 | output keeps its own level',
    ];
    expect(lineLevels(lines)).toEqual(['info', 'info', 'error', 'error', 'error', 'info', 'warn', 'warn', 'output']);
  });
});

describe('log search', () => {
  const lines = ['12:00:00.000 attempt 1 of task', '12:00:00.001 | Rows rows ROWS', '12:00:00.002 done'];
  it('finds every case-insensitive occurrence, line by line', () => {
    expect(findMatches(lines, 'rows')).toEqual([
      { line: 1, start: 15, end: 19 },
      { line: 1, start: 20, end: 24 },
      { line: 1, start: 25, end: 29 },
    ]);
    expect(findMatches(lines, '')).toEqual([]);
    expect(findMatches(['aaaa'], 'aa')).toEqual([
      { line: 0, start: 0, end: 2 },
      { line: 0, start: 2, end: 4 },
    ]);
    expect(findMatches(['a a a a'], 'a', 3).length).toBe(3);
  });
  it('steps through the matches, wrapping around', () => {
    expect(stepMatch(null, 3, 1)).toBe(0);
    expect(stepMatch(null, 3, -1)).toBe(2);
    expect(stepMatch(2, 3, 1)).toBe(0);
    expect(stepMatch(0, 3, -1)).toBe(2);
    expect(stepMatch(0, 0, 1)).toBeNull();
  });
  it('says where the current match is among all', () => {
    expect(matchCountText(0, 3, 'x')).toBe('1 of 3');
    expect(matchCountText(null, 1200, 'x')).toBe('1,200 matches');
    expect(matchCountText(null, 0, 'x')).toBe('no matches');
    expect(matchCountText(null, 0, '')).toBe('');
  });
  it('cuts a line at its time and at its matches', () => {
    const line = '12:00:00.001 | Rows rows';
    const p = linePieces(line, [
      { start: 15, end: 19, index: 4 },
      { start: 20, end: 24, index: 5 },
    ]);
    expect(p).toEqual([
      { text: '12:00:00.001 ', time: true, match: null },
      { text: '| ', time: false, match: null },
      { text: 'Rows', time: false, match: 4 },
      { text: ' ', time: false, match: null },
      { text: 'rows', time: false, match: 5 },
    ]);
    expect(p.map((x) => x.text).join('')).toBe(line);
    // A match across the time prefix keeps its text whole between the cuts.
    expect(linePieces('12:00:00.001 x', [{ start: 11, end: 14, index: 0 }]).map((x) => [x.text, x.match])).toEqual([
      ['12:00:00.00', null],
      ['1 ', 0],
      ['x', 0],
    ]);
    expect(linePieces('', [])).toEqual([]);
  });
  it('names the download after the pipeline, run and task', () => {
    expect(logFileName('runs_demo', 12, 'by_region')).toBe('runs_demo-run12-by_region.log');
    expect(logFileName(null, 3, 'a/b c')).toBe('run3-a_b_c.log');
  });
});
