import { describe, expect, it } from 'vitest';
import { rankNames } from './QuickOpen';

describe('rankNames', () => {
  const names = ['medallion', 'energy', 'daily_medals', 'big', 'nums'];
  it('puts prefixes before substrings before subsequences', () => {
    expect(rankNames(names, 'med')).toEqual(['medallion', 'daily_medals']);
    expect(rankNames(names, 'mdl')).toEqual(['daily_medals', 'medallion']);
  });
  it('lists everything sorted for an empty query and nothing for a miss', () => {
    expect(rankNames(names, '')).toEqual(['big', 'daily_medals', 'energy', 'medallion', 'nums']);
    expect(rankNames(names, 'zzz')).toEqual([]);
  });
});
