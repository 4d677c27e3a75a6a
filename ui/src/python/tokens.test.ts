import { describe, expect, it } from 'vitest';
import { functionParams, stringParts, stringValue, tokenizePython } from './tokens';

const kinds = (code: string) => tokenizePython(code).filter((t) => t.kind !== 'space').map((t) => [t.kind, t.text]);

describe('tokenizePython', () => {
  it('is lossless and tells strings, comments, numbers and words apart', () => {
    const code = 'x = pl.col("a b") # sum\ny = rb\'\\x00\' + 1.5e3\n';
    expect(tokenizePython(code).map((t) => t.text).join('')).toBe(code);
    expect(kinds(code)).toEqual([
      ['word', 'x'], ['punct', '='], ['word', 'pl'], ['punct', '.'], ['word', 'col'], ['punct', '('], ['string', '"a b"'],
      ['punct', ')'], ['comment', '# sum'], ['word', 'y'], ['punct', '='], ['string', "rb'\\x00'"], ['punct', '+'], ['number', '1.5e3'],
    ]);
  });

  it('reads triple-quoted strings across lines, and unterminated strings to the end of their line', () => {
    expect(kinds('"""a\n"b"\n""" x')).toEqual([['string', '"""a\n"b"\n"""'], ['word', 'x']]);
    expect(kinds('f("ab\ny')).toEqual([['word', 'f'], ['punct', '('], ['string', '"ab'], ['word', 'y']]);
  });

  it('gives a string literal its quote, content range and value', () => {
    const [t] = tokenizePython("f'it'");
    expect(stringParts(t!)).toEqual({ quote: "'", contentStart: 2, contentEnd: 4, closed: true });
    expect(stringValue(t!)).toBe('it');
    const [open] = tokenizePython('"amo');
    expect(stringParts(open!)).toMatchObject({ contentStart: 1, contentEnd: 4, closed: false });
  });
});

describe('functionParams', () => {
  it('reads parameter names without annotations, defaults or stars', () => {
    const code = 'def run(bronze: pl.LazyFrame, silver: "dict[str, int]" = {}, *rest, params: dict) -> pl.LazyFrame:\n  pass\n# def no(x)\ndef helper(a, /, b=(1, 2), **kw): pass';
    expect([...functionParams(code)]).toEqual([
      ['run', ['bronze', 'silver', 'rest', 'params']],
      ['helper', ['a', 'b', 'kw']],
    ]);
  });
});
