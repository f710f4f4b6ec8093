import { describe, expect, it } from 'vitest';
import { wordsOf } from './text.js';

describe('wordsOf', () => {
  it('keeps letters and digits only, so FTS syntax in a query is just a separator', () => {
    expect(wordsOf('"Rust*" OR (c++) NEAR/3 -go AND ü')).toEqual(['rust', 'or', 'c', 'near', '3', 'go', 'and', 'ü']);
    expect(wordsOf('')).toEqual([]);
    expect(wordsOf(null)).toEqual([]);
  });

  it('folds compatibility forms and case, keeps repeats, and stops at max', () => {
    expect(wordsOf('ＡＢＣ abc Été')).toEqual(['abc', 'abc', 'été']);
    expect(wordsOf('a b c d', 2)).toEqual(['a', 'b']);
  });
});
