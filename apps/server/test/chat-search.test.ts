import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, chatApp, group, ok, people, send, type ChatTestApp } from './support/chat.js';
import { describeEachDialect } from './support/databases.js';
import type { SignedIn } from './support/identity.js';

describeEachDialect('chat: full-text message search', (dialect) => {
  let t: ChatTestApp;
  let ann: SignedIn, ben: SignedIn, cat: SignedIn;

  beforeAll(async () => {
    t = await chatApp({ dialect });
    [ann, ben, cat] = (await people(t, 3, 'Seeker')) as [SignedIn, SignedIn, SignedIn];
  }, 180_000);
  afterAll(() => t?.destroy());

  const search = (user: SignedIn, params: Record<string, string>) => api(t, user, 'GET', `/conversations/search?${new URLSearchParams(params)}`);
  const hits = async (user: SignedIn, params: Record<string, string>) => (await ok(search(user, params))).items as any[];
  /** Sends one message a second, so that "newest first" has one answer. */
  const say = async (user: SignedIn, id: string, body: string) => {
    t.clock.advance(1000);
    return send(t, user, id, body);
  };

  it('finds messages of my conversations only, with the matched words marked in a plain-text snippet', async () => {
    const mine = await group(t, ann, [ben]);
    const theirs = await group(t, cat, []);
    const found = await say(ben, mine.id, 'Who brings the Pineapple pizza on <b>Friday</b>?');
    await say(cat, theirs.id, 'pineapple pizza is mine');

    const items = await hits(ann, { q: 'PIZZA pineapple' });
    expect(items).toEqual([
      {
        conversationId: mine.id,
        messageId: found.id,
        seq: found.seq,
        senderId: ben.userId,
        createdAt: found.createdAt,
        editedAt: null,
        snippet: { text: 'Who brings the Pineapple pizza on <b>Friday</b>?', highlights: [{ start: 15, end: 24 }, { start: 25, end: 30 }] },
      },
    ]);
    expect((await hits(cat, { q: 'pineapple' })).map((h) => h.conversationId)).toEqual([theirs.id]);
    // Every word must match.
    expect(await hits(ann, { q: 'pineapple anchovies' })).toEqual([]);
  });

  it('messages sent at once, which share a transaction, are each findable once acknowledged, once', async () => {
    const g = await group(t, ann, [ben]);
    const sent = await Promise.all(Array.from({ length: 6 }, (_, n) => send(t, n % 2 ? ann : ben, g.id, `kumquat number ${n}`)));
    const found = await hits(ann, { q: 'kumquat', conversationId: g.id });
    expect(found.map((h) => h.messageId).sort()).toEqual(sent.map((m) => m.id).sort());
  });

  it('a conversation filter needs membership (404 otherwise), and leaving a group takes its messages out of my results', async () => {
    const g = await group(t, ann, [ben, cat]);
    await say(ann, g.id, 'quokka sighting at noon');
    expect(await hits(cat, { q: 'quokka', conversationId: g.id })).toHaveLength(1);
    const other = await group(t, ann, []);
    const refused = await search(cat, { q: 'quokka', conversationId: other.id });
    expect(refused.statusCode).toBe(404);
    expect(refused.json().code).toBe('CHAT_CONVERSATION_NOT_FOUND');

    expect((await api(t, cat, 'DELETE', `/conversations/${g.id}`)).statusCode).toBe(204);
    expect(await hits(cat, { q: 'quokka' })).toEqual([]);
    expect(await hits(ben, { q: 'quokka' })).toHaveLength(1);
  });

  it('deleted messages never match; edited ones match their current text only', async () => {
    const g = await group(t, ann, [ben]);
    const doomed = await say(ann, g.id, 'the walrus password is hunter2');
    const edited = await say(ann, g.id, 'meet at the lighthouse');
    expect(await hits(ben, { q: 'walrus' })).toHaveLength(1);
    expect((await api(t, ann, 'DELETE', `/conversations/${g.id}/messages/${doomed.id}`)).statusCode).toBe(204);
    expect(await hits(ben, { q: 'walrus' })).toEqual([]);
    expect(await hits(ann, { q: 'hunter2' })).toEqual([]);

    await ok(api(t, ann, 'PATCH', `/conversations/${g.id}/messages/${edited.id}`, { body: 'meet at the harbour' }));
    expect(await hits(ben, { q: 'lighthouse' })).toEqual([]);
    expect(await hits(ben, { q: 'harbour' })).toMatchObject([{ messageId: edited.id, editedAt: expect.any(String), snippet: { text: 'meet at the harbour' } }]);
    // Deleting an edited message takes its current text out as well.
    expect((await api(t, ann, 'DELETE', `/conversations/${g.id}/messages/${edited.id}`)).statusCode).toBe(204);
    expect(await hits(ben, { q: 'harbour' })).toEqual([]);
  });

  it('pages newest first with a cursor, never repeating a message', async () => {
    const g = await group(t, ann, [ben]);
    const sent = [];
    for (let n = 1; n <= 7; n++) sent.push(await say(n % 2 ? ann : ben, g.id, `zeppelin report number ${n}`));
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await ok(search(ben, { q: 'zeppelin', limit: '3', ...(cursor ? { cursor } : {}) }));
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((h) => h.messageId)).toEqual(sent.map((m) => m.id).reverse());
    expect((await search(ben, { q: 'zeppelin', cursor: 'forged.cursor' })).statusCode).toBe(400);
  });

  it('search syntax and hostile input in q are words or refusals, never a server error', async () => {
    const g = await group(t, ann, [ben]);
    await say(ann, g.id, 'near the office, not far: "quoted" words and (parentheses) - dashes*');
    const hostile = [
      '"', '"unbalanced', "'", 'foo*', '*', '**', 'NEAR(a b)', 'a NEAR b', 'NEAR/2', '-foo', 'foo -bar', '(((', ')', 'a OR b', 'AND', 'NOT', 'OR',
      'body:near', 'chat_message_fts:near', '^near', '{near office}', 'near + office', "'; drop table chat_message; --", '\\', '%', '_', '&|!:*', '🍍', ' ',
      '<script>alert(1)</script>', 'a'.repeat(200), 'near'.repeat(50), Array.from({ length: 100 }, (_, i) => `w${i}`).join(' '),
    ];
    for (const q of hostile) {
      const res = await search(ben, { q });
      expect(res.statusCode, `q=${q}: ${res.body}`).toBeLessThan(500);
      expect([200, 400, 422], `q=${q}`).toContain(res.statusCode);
    }
    // Operators are plain words: "NEAR" finds the word near; quotes and parentheses are dropped.
    expect(await hits(ben, { q: 'NEAR' })).toHaveLength(1);
    expect(await hits(ben, { q: '"(parentheses' })).toHaveLength(1);
    expect(await hits(ben, { q: 'near -office' })).toHaveLength(1);
    expect((await search(ben, { q: 'a'.repeat(201) })).statusCode).toBe(422);
    expect((await search(ben, { q: '' })).statusCode).toBe(422);
  });
});
