import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, chatApp, eventsOf, group, ok, people, send, type ChatTestApp } from './support/chat.js';
import { describeEachDialect } from './support/databases.js';
import { manualClock, type SignedIn } from './support/identity.js';
import { until } from './support/until.js';

describeEachDialect('chat: notifications of messages one has not read', (dialect) => {
  let t: ChatTestApp;
  let ann: SignedIn, ben: SignedIn, cat: SignedIn, dan: SignedIn;
  const clock = manualClock(Date.now());

  beforeAll(async () => {
    // The clock only moves when a test moves it: a window's job runs when the test says so.
    t = await chatApp({ dialect, background: true, clock, env: { AUTH_ACCESS_TOKEN_TTL_SECONDS: '86400', CHAT_NOTIFY_DELAY_SECONDS: '30' } });
    [ann, ben, cat, dan] = (await people(t, 4, 'Reader')) as [SignedIn, SignedIn, SignedIn, SignedIn];
  }, 180_000);
  afterAll(async () => {
    await t?.destroy();
  });

  const notifyEvents = async (id: string) => (await eventsOf(t, 'internal', 'chat.message.notify')).filter((e) => e.payload.conversationId === id);
  const notifyJobs = async (id: string) => (await t.core.jobs.list({ limit: 1000 })).filter((j) => j.name === 'chat.message.notify' && (j.payload as { conversationId: string }).conversationId === id);
  const inboxAbout = async (user: SignedIn, id: string) => (await ok(api(t, user, 'GET', '/notifications?limit=100'))).items.filter((n: any) => n.entity.id === id);

  it('a burst of messages makes one notification, after the window, for the members who have not read them and did not mute', async () => {
    const g = await group(t, ann, [ben, cat, dan]);
    await ok(api(t, dan, 'PUT', `/conversations/${g.id}/mute`, {}));
    await send(t, ann, g.id, 'first');
    await send(t, ann, g.id, 'second');
    const third = await send(t, ann, g.id, 'third');
    expect(await notifyJobs(g.id)).toHaveLength(1);

    // Ben reads them in the app before the window ends: no inbox entry for him.
    expect(await ok(api(t, ben, 'POST', `/conversations/${g.id}/read`, { readSeq: third.seq }))).toMatchObject({ readSeq: 3, unreadCount: 0 });
    expect(await notifyEvents(g.id)).toEqual([]);

    clock.advance(32_001);
    await until(async () => (await notifyEvents(g.id)).length > 0);
    const [event] = await notifyEvents(g.id);
    expect(event!.payload).toEqual({ conversationId: g.id, messageId: third.id, senderId: ann.userId, preview: 'third', notifyIds: [cat.userId] });
    await until(async () => (await inboxAbout(cat, g.id)).length > 0);
    expect((await inboxAbout(cat, g.id)).map((n: any) => [n.category, n.body])).toEqual([['message', 'third']]);
    expect(await inboxAbout(ben, g.id)).toEqual([]);
    expect(await inboxAbout(dan, g.id)).toEqual([]);

    // A message in a later window is a new notification: ben has not read this one.
    const fourth = await send(t, ann, g.id, 'fourth');
    clock.advance(32_001);
    await until(async () => (await notifyEvents(g.id)).length === 2);
    expect((await notifyEvents(g.id))[1]!.payload).toMatchObject({ messageId: fourth.id, notifyIds: [ben.userId, cat.userId].sort() });
    expect(await notifyJobs(g.id)).toHaveLength(2);
  });

  it('a mention notifies at once, without waiting for the window', async () => {
    const g = await group(t, ann, [ben]);
    await send(t, ann, g.id, { body: 'Ben, look', mentions: [ben.userId] });
    await until(async () => (await inboxAbout(ben, g.id)).some((n: any) => n.category === 'mention'));
    expect(await notifyEvents(g.id)).toEqual([]);
  });
});
