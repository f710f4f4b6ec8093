/**
 * The text side of message search: turning what a user typed into words, and cutting a snippet
 * with the matches marked by offsets (never by markup, so no text can inject HTML).
 */
import { foldWord, WORD, wordsOf } from '../../core/text.js';

/** Words a query may hold: more add nothing but cost. */
export const MAX_QUERY_WORDS = 20;
/** Length of a snippet's text, in UTF-16 code units, ellipses included. */
export const SNIPPET_LENGTH = 160;
/** How much text a snippet shows before its first match. */
const LEAD = 40;
const ELLIPSIS = '…';

/** The distinct words of a query (see core/text.ts); every one must match. */
export function searchWords(q: string): string[] {
  return [...new Set(wordsOf(q))].slice(0, MAX_QUERY_WORDS);
}

export interface Snippet {
  text: string;
  /** Matched words as [start, end) offsets in `text`, in UTF-16 code units, in order. */
  highlights: Array<{ start: number; end: number }>;
}

const isLowSurrogate = (text: string, i: number) => {
  const code = text.charCodeAt(i);
  return code >= 0xdc00 && code <= 0xdfff;
};

/** A window of `body` around its first match, with every whole match inside it marked. */
export function snippetOf(body: string, words: readonly string[]): Snippet {
  const wanted = new Set(words);
  const matches = [...body.matchAll(WORD)].filter((m) => wanted.has(foldWord(m[0]))).map((m) => ({ start: m.index, end: m.index + m[0].length }));
  let start = Math.max(0, (matches[0]?.start ?? 0) - LEAD);
  // Never begin or end inside a surrogate pair (an emoji cut in half).
  if (start > 0 && isLowSurrogate(body, start)) start++;
  const lead = start > 0 ? ELLIPSIS : '';
  let end = Math.min(body.length, start + SNIPPET_LENGTH - lead.length);
  const trail = end < body.length ? ELLIPSIS : '';
  if (trail) end -= trail.length;
  if (end < body.length && isLowSurrogate(body, end)) end--;
  const shift = lead.length - start;
  return {
    text: lead + body.slice(start, end) + trail,
    highlights: matches.filter((m) => m.start >= start && m.end <= end).map((m) => ({ start: m.start + shift, end: m.end + shift })),
  };
}
