import { describe, expect, it } from 'vitest';
import { pythonLines } from './pythonHighlight';
import { markColumn } from './sqlHighlight';

describe('pythonLines', () => {
  it('colours keywords, names, strings, numbers and comments, line by line', () => {
    const lines = pythonLines('def run(sales):  # go\n    return sales.filter(pl.col("a") > 6)');
    expect(lines).toHaveLength(2);
    const kinds = Object.fromEntries(lines.flat().filter((t) => t.kind !== 'space' && t.kind !== 'punct').map((t) => [t.text, t.kind]));
    expect(kinds).toEqual({ def: 'keyword', run: 'ident', sales: 'ident', '# go': 'comment', return: 'keyword', filter: 'ident', pl: 'ident', col: 'ident', '"a"': 'string', '6': 'number' });
    expect(markColumn(lines[1]!, 5).find((t) => t.error)?.text).toBe('return');
  });

  it('splits triple-quoted strings at their newlines', () => {
    const lines = pythonLines('x = """a\nb"""');
    expect(lines[1]!.map((t) => [t.text, t.kind])).toEqual([['b"""', 'string']]);
  });
});
