import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { api, chatApp, direct, eventsOf, group, ok, send, type ChatTestApp } from '../../../test/support/chat.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { signUp, signUpAdmin, type SignedIn } from '../../../test/support/identity.js';
import { CHAT_ERASE_JOB } from './account-erasure.js';

describeEachDialect('chat: a deleted account', (dialect) => {
  let t: ChatTestApp;
  let admin: SignedIn;
  let alice: SignedIn;
  let bob: SignedIn;
  beforeAll(async () => {
    t = await chatApp({ dialect, background: true });
    [alice, bob] = await Promise.all([signUp(t, { displayName: 'Alice' }), signUp(t, { displayName: 'Bob' })]);
    admin = await signUpAdmin(t);
  }, 180_000);
  afterAll(() => t.destroy());

  const deletedIn = async (conversationId: string) => (await eventsOf(t, `conversation:${conversationId}`, 'chat.message.deleted')).map((e) => e.payload.messageId);

  it('their messages become tombstones everywhere, their reactions, reports, blocks and edit history go, and a direct peer shows as deleted', async () => {
    const gone = await signUp(t, { displayName: 'Gone Soon' });
    const dm = await direct(t, gone, alice);
    const study = await group(t, alice, [gone, bob]);
    const mine = await send(t, gone, dm.id, `hi @${alice.userId}`);
    const edited = await send(t, gone, study.id, 'first draft');
    await ok(api(t, gone, 'PATCH', `/conversations/${study.id}/messages/${edited.id}`, { body: 'my secret' }));
    const hers = await send(t, alice, study.id, 'hello all');
    await ok(api(t, gone, 'POST', `/conversations/${study.id}/messages/${hers.id}/reactions`, { emoji: '👍' }), 201);
    await ok(api(t, alice, 'POST', `/conversations/${study.id}/messages/${hers.id}/reactions`, { emoji: '🎉' }), 201);
    await ok(api(t, alice, 'POST', `/conversations/${study.id}/messages/${edited.id}/reactions`, { emoji: '👍' }), 201);
    await ok(api(t, gone, 'POST', `/conversations/${study.id}/messages/${hers.id}/reports`, { reason: 'spam' }), 201);
    await ok(api(t, gone, 'POST', '/conversations/blocks', { userId: bob.userId }), 201);

    expect((await api(t, admin, 'DELETE', `/admin/users/${gone.userId}`)).statusCode).toBe(204);
    await vi.waitFor(async () => expect([...(await deletedIn(dm.id)), ...(await deletedIn(study.id))].sort()).toEqual([mine.id, edited.id].sort()), { timeout: 30_000, interval: 50 });
    await vi.waitFor(async () => expect((await t.core.jobs.list({ status: 'succeeded', limit: 1000 })).filter((j) => j.name === CHAT_ERASE_JOB && (j.payload as { userId: string }).userId === gone.userId)).toHaveLength(1), { timeout: 30_000, interval: 50 });

    const dmMessages = (await ok(api(t, alice, 'GET', `/conversations/${dm.id}/messages`))).items;
    expect(dmMessages).toEqual([expect.objectContaining({ id: mine.id, senderId: gone.userId, body: null, mentions: [], attachments: [], deletedAt: expect.any(String) })]);
    const groupMessages = (await ok(api(t, alice, 'GET', `/conversations/${study.id}/messages`))).items as Array<{ id: string; body: string | null; reactions: Array<{ emoji: string }> }>;
    expect(groupMessages.find((m) => m.id === edited.id)).toMatchObject({ body: null, reactions: [] });
    expect(groupMessages.find((m) => m.id === hers.id)!.reactions.map((r) => r.emoji)).toEqual(['🎉']);

    const peer = (await ok(api(t, alice, 'GET', '/conversations'))).items.find((c: { id: string }) => c.id === dm.id).peer;
    expect(peer).toEqual({ userId: gone.userId, displayName: null });

    const db = t.core.database.db as any;
    expect(await db.selectFrom('chat_message_edit').select('id').where('message_id', '=', edited.id).execute()).toEqual([]);
    expect(await db.selectFrom('chat_report').select('id').where('reporter_id', '=', gone.userId).execute()).toEqual([]);
    expect(await db.selectFrom('chat_block').select('blocked_id').where('blocker_id', '=', gone.userId).execute()).toEqual([]);
    expect(await db.selectFrom('chat_reaction').select('emoji').where('user_id', '=', gone.userId).execute()).toEqual([]);
  });

  it('a redelivered event makes no second job, and another run announces nothing again', async () => {
    const gone = await signUp(t, { displayName: 'Twice' });
    const dm = await direct(t, gone, alice);
    await send(t, gone, dm.id, 'bye');
    expect((await api(t, admin, 'DELETE', `/admin/users/${gone.userId}`)).statusCode).toBe(204);
    await vi.waitFor(async () => expect(await deletedIn(dm.id)).toHaveLength(1), { timeout: 30_000, interval: 50 });

    const subscriber = t.chat.subscribers!.find((s) => s.name === 'chat.user-deleted')!;
    const deleted = (await eventsOf(t, 'system', 'identity.user.deleted')).find((e) => e.payload.userId === gone.userId)!;
    await subscriber.handle(deleted);
    await subscriber.handle(deleted);
    const jobs = (await t.core.jobs.list({ limit: 1000 })).filter((j) => j.name === CHAT_ERASE_JOB && (j.payload as { userId: string }).userId === gone.userId);
    expect(jobs).toHaveLength(1);
    await t.chat.jobs![CHAT_ERASE_JOB]!.handle({ id: jobs[0]!.id, name: CHAT_ERASE_JOB, payload: { userId: gone.userId }, attempt: 2, maxAttempts: 10, signal: new AbortController().signal });
    expect(await deletedIn(dm.id)).toHaveLength(1);
  });
});
