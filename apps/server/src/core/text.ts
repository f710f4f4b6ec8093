/**
 * Words as every search in Lyceum sees them: runs of letters and digits, NFKC-folded to lower case.
 * Everything else (quotes, `*`, `-`, parentheses) only separates words, so no user-typed search
 * syntax reaches FTS5 or a tsquery.
 */
export const WORD = /[\p{L}\p{N}]+/gu;

export const foldWord = (word: string) => word.normalize('NFKC').toLowerCase();

/** The words of `text`, in order (repeats kept), at most `max`. */
export function wordsOf(text: string | null | undefined, max = Infinity): string[] {
  if (!text) return [];
  return (foldWord(text).match(WORD) ?? []).slice(0, max);
}
