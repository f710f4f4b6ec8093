import { describe, expect, it } from 'vitest';
import { MAX_QUERY_WORDS, SNIPPET_LENGTH, searchWords, snippetOf } from './chat-search.js';

describe('chat search text', () => {
  it('turns a query into lower-case words; search syntax only separates them', () => {
    expect(searchWords('Pizza "NEAR(x* -y)" pizza ÉTÉ')).toEqual(['pizza', 'near', 'x', 'y', 'été']);
    expect(searchWords('*** "" ( ) -')).toEqual([]);
    expect(searchWords(Array.from({ length: 50 }, (_, i) => `w${i}`).join(' '))).toHaveLength(MAX_QUERY_WORDS);
  });

  it('marks whole matched words by offsets in the snippet text', () => {
    const snippet = snippetOf('Pizza, pizzas and PIZZA!', ['pizza']);
    expect(snippet).toEqual({ text: 'Pizza, pizzas and PIZZA!', highlights: [{ start: 0, end: 5 }, { start: 18, end: 23 }] });
  });

  it('cuts a long text around the first match, with ellipses, and the offsets follow the cut', () => {
    const body = `${'x '.repeat(200)}the needle is here ${'y '.repeat(200)}`;
    const { text, highlights } = snippetOf(body, ['needle']);
    expect(text.length).toBeLessThanOrEqual(SNIPPET_LENGTH);
    expect(text.startsWith('…') && text.endsWith('…')).toBe(true);
    expect(highlights).toHaveLength(1);
    expect(text.slice(highlights[0]!.start, highlights[0]!.end)).toBe('needle');
  });

  it('never cuts an emoji in half', () => {
    const body = `${'🍍'.repeat(100)} needle ${'🍍'.repeat(100)}`;
    const { text, highlights } = snippetOf(body, ['needle']);
    expect(text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    expect(text.slice(highlights[0]!.start, highlights[0]!.end)).toBe('needle');
  });

  it('shows the start of the text when no word can be marked', () => {
    expect(snippetOf('short text', ['absent'])).toEqual({ text: 'short text', highlights: [] });
  });
});
