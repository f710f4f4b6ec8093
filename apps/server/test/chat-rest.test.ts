import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect } from './support/databases.js';
import { api, chatApp, direct, eventsOf, group, ok, people, send, type ChatTestApp } from './support/chat.js';
import { bearer, signUpAdmin, type SignedIn } from './support/identity.js';

describeEachDialect('chat over REST', (dialect) => {
  let t: ChatTestApp;
  let ann: SignedIn, ben: SignedIn, cat: SignedIn, dan: SignedIn, eve: SignedIn;

  beforeAll(async () => {
    t = await chatApp({ dialect });
    [ann, ben, cat, dan, eve] = (await people(t, 5)) as [SignedIn, SignedIn, SignedIn, SignedIn, SignedIn];
  }, 180_000);
  afterAll(() => t.destroy());

  describe('conversations', () => {
    it('a direct conversation exists once per pair, whoever opens it', async () => {
      const first = await api(t, ann, 'POST', '/conversations', { kind: 'direct', userId: ben.userId });
      expect(first.statusCode, first.body).toBe(201);
      expect(first.headers.location).toBe(`/api/v1/conversations/${first.json().id}`);
      expect(first.json()).toMatchObject({ kind: 'direct', title: null, memberCount: 2, lastSeq: 0, peer: { userId: ben.userId, displayName: 'Person 2' }, me: { role: 'member', unreadCount: 0 } });
      const again = await api(t, ann, 'POST', '/conversations', { kind: 'direct', userId: ben.userId });
      expect(again.statusCode).toBe(200);
      expect(again.json().id).toBe(first.json().id);
      const reverse = await ok(api(t, ben, 'POST', '/conversations', { kind: 'direct', userId: ann.userId }));
      expect(reverse).toMatchObject({ id: first.json().id, peer: { userId: ann.userId } });
      const rows = await t.core.database.db.selectFrom('chat_conversation').selectAll().where('kind', '=', 'direct').execute();
      expect(rows.filter((r) => r.direct_key.includes(ann.userId) && r.direct_key.includes(ben.userId))).toHaveLength(1);
      expect(await eventsOf(t, `user:${ben.userId}`, 'chat.conversation.created')).toHaveLength(1);
    });

    it('two people opening the same direct conversation at once get one conversation', async () => {
      const [a, b] = await Promise.all([
        api(t, cat, 'POST', '/conversations', { kind: 'direct', userId: dan.userId }),
        api(t, dan, 'POST', '/conversations', { kind: 'direct', userId: cat.userId }),
      ]);
      expect([a.statusCode, b.statusCode].sort()).toEqual([200, 201]);
      expect(a.json().id).toBe(b.json().id);
    });

    it('refuses a direct conversation with oneself or an unknown user', async () => {
      expect((await api(t, ann, 'POST', '/conversations', { kind: 'direct', userId: ann.userId })).json().code).toBe('CHAT_DIRECT_WITH_SELF');
      const unknown = await api(t, ann, 'POST', '/conversations', { kind: 'direct', userId: 'usr_nobody' });
      expect(unknown.statusCode).toBe(422);
      expect(unknown.json().code).toBe('CHAT_USER_NOT_FOUND');
      expect((await api(t, ann, 'POST', '/conversations', { kind: 'group', title: 'x', memberIds: ['usr_nobody'] })).statusCode).toBe(422);
      expect((await api(t, ann, 'POST', '/conversations', { kind: 'group', title: '   ' })).statusCode).toBe(422);
      expect((await api(t, ann, 'POST', '/conversations', { kind: 'channel' })).statusCode).toBe(422);
    });

    it('a group has an owner, admins and members; only the owner and admins manage it', async () => {
      const g = await group(t, ann, [ben, cat], 'Algebra');
      const members = await ok(api(t, ann, 'GET', `/conversations/${g.id}/members`));
      expect(members.items.map((m: any) => [m.userId, m.role]).sort()).toEqual([[ann.userId, 'owner'], [ben.userId, 'member'], [cat.userId, 'member']].sort());
      expect(members.items.find((m: any) => m.userId === ann.userId).displayName).toBe('Person 1');

      // A plain member may not rename, add or remove.
      expect((await api(t, ben, 'PATCH', `/conversations/${g.id}`, { title: 'Mine now' })).json().code).toBe('FORBIDDEN');
      expect((await api(t, ben, 'POST', `/conversations/${g.id}/members`, { userId: dan.userId })).statusCode).toBe(403);
      expect((await api(t, ben, 'DELETE', `/conversations/${g.id}/members/${cat.userId}`)).statusCode).toBe(403);
      // A stranger does not even see it.
      expect((await api(t, dan, 'GET', `/conversations/${g.id}`)).json().code).toBe('CHAT_CONVERSATION_NOT_FOUND');
      expect((await api(t, dan, 'PATCH', `/conversations/${g.id}`, { title: 'x' })).statusCode).toBe(404);

      // The owner renames with If-Match; a stale version is 412.
      const read = await api(t, ann, 'GET', `/conversations/${g.id}`);
      expect(read.headers.etag).toBe('"1"');
      const renamed = await api(t, ann, 'PATCH', `/conversations/${g.id}`, { title: 'Algebra II' }, { 'if-match': '"1"' });
      expect(renamed.statusCode, renamed.body).toBe(200);
      expect(renamed.json()).toMatchObject({ title: 'Algebra II', version: 2 });
      expect((await api(t, ann, 'PATCH', `/conversations/${g.id}`, { title: 'Stale' }, { 'if-match': '"1"' })).statusCode).toBe(412);
      expect((await api(t, ann, 'PATCH', `/conversations/${g.id}`, { title: 'Stale', version: 1 })).statusCode).toBe(412);

      // The owner appoints an admin; the admin adds and removes plain members but not the owner.
      expect(await ok(api(t, ann, 'PATCH', `/conversations/${g.id}/members/${ben.userId}`, { role: 'admin' }))).toMatchObject({ role: 'admin' });
      const added = await api(t, ben, 'POST', `/conversations/${g.id}/members`, { userId: dan.userId });
      expect(added.statusCode, added.body).toBe(201);
      expect(added.headers.location).toBe(`/api/v1/conversations/${g.id}/members/${dan.userId}`);
      expect((await api(t, ben, 'POST', `/conversations/${g.id}/members`, { userId: dan.userId })).json().code).toBe('CHAT_ALREADY_MEMBER');
      expect((await api(t, ben, 'POST', `/conversations/${g.id}/members`, { userId: eve.userId, role: 'admin' })).statusCode).toBe(403);
      expect((await api(t, ben, 'DELETE', `/conversations/${g.id}/members/${ann.userId}`)).statusCode).toBe(403);
      expect((await api(t, ben, 'DELETE', `/conversations/${g.id}/members/${dan.userId}`)).statusCode).toBe(204);
      expect((await api(t, dan, 'GET', `/conversations/${g.id}`)).statusCode).toBe(404);
      expect((await api(t, ann, 'PATCH', `/conversations/${g.id}/members/${ann.userId}`, { role: 'member' })).json().code).toBe('CHAT_OWNER_CANNOT_BE_CHANGED');

      const conversation = await ok(api(t, ann, 'GET', `/conversations/${g.id}`));
      expect(conversation.memberCount).toBe(3);
      const types = (await eventsOf(t, `conversation:${g.id}`)).map((e) => e.type);
      expect(types).toEqual(['chat.conversation.created', 'chat.conversation.updated', 'chat.member.updated', 'chat.member.added', 'chat.member.removed']);
    });

    it('an owner who leaves hands the group to the oldest admin', async () => {
      const g = await group(t, ann, [ben, cat]);
      await ok(api(t, ann, 'PATCH', `/conversations/${g.id}/members/${cat.userId}`, { role: 'admin' }));
      expect((await api(t, ann, 'DELETE', `/conversations/${g.id}`)).statusCode).toBe(204);
      expect((await api(t, ann, 'GET', `/conversations/${g.id}`)).statusCode).toBe(404);
      const members = await ok(api(t, cat, 'GET', `/conversations/${g.id}/members`));
      expect(members.items.map((m: any) => [m.userId, m.role]).sort()).toEqual([[ben.userId, 'member'], [cat.userId, 'owner']].sort());
      expect((await ok(api(t, cat, 'GET', `/conversations/${g.id}`))).memberCount).toBe(2);
      // Direct conversations cannot be left or managed.
      const d = await direct(t, ann, eve);
      expect((await api(t, ann, 'DELETE', `/conversations/${d.id}`)).json().code).toBe('CHAT_NOT_A_GROUP');
    });

    it('lists my conversations, most recently active first, with unread counts and the last message, by pages', async () => {
      const [p1, p2, p3] = await people(t, 3, 'Lister');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await group(t, p1!, [p2!], `G${i}`)).id);
        t.clock.advance(1000);
      }
      await send(t, p2!, ids[0]!, 'newest activity');
      await send(t, p2!, ids[0]!, 'x'.repeat(300));
      const first = await ok(api(t, p1!, 'GET', '/conversations?limit=2'));
      expect(first.items.map((c: any) => c.id)).toEqual([ids[0], ids[2]]);
      expect(first.items[0]).toMatchObject({ lastSeq: 2, me: { unreadCount: 2, readSeq: 0 }, lastMessage: { seq: 2, senderId: p2!.userId, preview: 'x'.repeat(140), deleted: false } });
      expect(first.items[1]).toMatchObject({ lastSeq: 0, lastMessage: null, me: { unreadCount: 0 } });
      const second = await ok(api(t, p1!, 'GET', `/conversations?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`));
      expect(second.items.map((c: any) => c.id)).toEqual([ids[1]]);
      expect(second.nextCursor).toBeNull();
      expect((await ok(api(t, p3!, 'GET', '/conversations'))).items).toEqual([]);
      expect((await api(t, p1!, 'GET', '/conversations?cursor=forged.cursor')).statusCode).toBe(400);
    });
  });

  describe('messages', () => {
    it('stores a message once per clientMessageId and numbers messages 1, 2, 3 in each conversation', async () => {
      const g = await group(t, ann, [ben]);
      const body = { body: 'Hello **world**', clientMessageId: 'uuid-1' };
      const first = await api(t, ann, 'POST', `/conversations/${g.id}/messages`, body);
      expect(first.statusCode, first.body).toBe(201);
      expect(first.headers.location).toBe(`/api/v1/conversations/${g.id}/messages/${first.json().id}`);
      expect(first.json()).toMatchObject({ seq: 1, senderId: ann.userId, body: 'Hello **world**', clientMessageId: 'uuid-1', reactions: [], editCount: 0 });
      const resend = await api(t, ann, 'POST', `/conversations/${g.id}/messages`, body);
      expect(resend.statusCode).toBe(200);
      expect(resend.json().id).toBe(first.json().id);
      // Another sender may use the same client id: ids are the sender's own.
      expect((await send(t, ben, g.id, { body: 'hi', clientMessageId: 'uuid-1' })).seq).toBe(2);
      expect((await send(t, ann, g.id, 'third')).seq).toBe(3);
      const stored = await t.core.database.db.selectFrom('chat_message').select('seq').where('conversation_id', '=', g.id).orderBy('seq').execute();
      expect(stored.map((r) => Number(r.seq))).toEqual([1, 2, 3]);
      const created = await eventsOf(t, `conversation:${g.id}`, 'chat.message.created');
      expect(created.map((e) => e.payload.seq)).toEqual([1, 2, 3]);
      expect(created[0]!.payload).toMatchObject({ conversationId: g.id, conversationKind: 'group', messageId: first.json().id, seq: 1, senderId: ann.userId, preview: 'Hello **world**' });
      // A group's members are whoever follows its room: the event does not list them (it would grow with the group).
      expect(created[0]!.payload).not.toHaveProperty('recipientIds');
      expect(created[0]!.scopes).toEqual([`conversation:${g.id}`]);
    });

    it('concurrent senders get distinct, gap-free seqs', async () => {
      const [p1, p2] = await people(t, 2, 'Racer');
      const g = await group(t, p1!, [p2!]);
      const sends = await Promise.all(Array.from({ length: 20 }, (_, i) => api(t, i % 2 ? p1! : p2!, 'POST', `/conversations/${g.id}/messages`, { body: `m${i}`, clientMessageId: `race-${i}` })));
      for (const res of sends) expect(res.statusCode, res.body).toBe(201);
      expect(sends.map((r) => r.json().seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect((await ok(api(t, p1!, 'GET', `/conversations/${g.id}`))).lastSeq).toBe(20);
      // The same clientMessageId sent twice at once is stored once.
      const twice = await Promise.all([0, 1].map(() => api(t, p1!, 'POST', `/conversations/${g.id}/messages`, { body: 'dup', clientMessageId: 'dup-1' })));
      expect(twice.map((r) => r.statusCode).sort()).toEqual([200, 201]);
      expect(twice[0]!.json().id).toBe(twice[1]!.json().id);
      expect((await ok(api(t, p1!, 'GET', `/conversations/${g.id}`))).lastSeq).toBe(21);
    });

    it('reads history by seq: newest first, before a seq, after a seq, by pages', async () => {
      const [p1, p2] = await people(t, 2, 'Reader');
      const g = await group(t, p1!, [p2!]);
      for (let i = 1; i <= 7; i++) await send(t, i % 2 ? p1! : p2!, g.id, `m${i}`);
      const newest = await ok(api(t, p2!, 'GET', `/conversations/${g.id}/messages?limit=3`));
      expect(newest.items.map((m: any) => m.seq)).toEqual([7, 6, 5]);
      const older = await ok(api(t, p2!, 'GET', `/conversations/${g.id}/messages?limit=3&cursor=${encodeURIComponent(newest.nextCursor)}`));
      expect(older.items.map((m: any) => m.seq)).toEqual([4, 3, 2]);
      expect((await ok(api(t, p2!, 'GET', `/conversations/${g.id}/messages?before=3`))).items.map((m: any) => m.seq)).toEqual([2, 1]);
      const after = await ok(api(t, p2!, 'GET', `/conversations/${g.id}/messages?after=2&limit=4`));
      expect(after.items.map((m: any) => m.seq)).toEqual([3, 4, 5, 6]);
      const rest = await ok(api(t, p2!, 'GET', `/conversations/${g.id}/messages?limit=4&cursor=${encodeURIComponent(after.nextCursor)}`));
      expect(rest.items.map((m: any) => m.seq)).toEqual([7]);
      expect(rest.nextCursor).toBeNull();
    });

    it('a non-member can neither read the history nor send, and a narrowly scoped API key is refused', async () => {
      const g = await group(t, ann, [ben]);
      const m = await send(t, ann, g.id, 'private');
      for (const [method, url] of [
        ['GET', `/conversations/${g.id}/messages`],
        ['GET', `/conversations/${g.id}/messages/${m.id}`],
        ['GET', `/conversations/${g.id}/members`],
        ['POST', `/conversations/${g.id}/read`],
      ] as const) {
        const res = await api(t, eve, method, url, method === 'POST' ? { readSeq: 1 } : undefined);
        expect(res.statusCode, `${method} ${url}`).toBe(404);
      }
      expect((await api(t, eve, 'POST', `/conversations/${g.id}/messages`, { body: 'let me in' })).statusCode).toBe(404);
      const key = await ok(api(t, ann, 'POST', '/api-keys', { name: 'profile only', permissions: ['profile:edit'] }), 201);
      expect((await api(t, `Bearer ${key.key}`, 'GET', `/conversations/${g.id}/messages`)).statusCode).toBe(403);
      expect((await api(t, ann, 'GET', `/conversations/${g.id}/messages/${m.id}`, undefined, {})).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${g.id}/messages` })).statusCode).toBe(401);
    });

    it('replies, mentions (members only) and attachment references', async () => {
      const g = await group(t, ann, [ben, cat]);
      const question = await send(t, ann, g.id, 'Who has the notes?');
      const answer = await send(t, ben, g.id, { body: '@Person 1 here, cc @Person 3', replyToId: question.id, mentions: [ann.userId, cat.userId, eve.userId, ben.userId], attachments: ['fil_notes'] });
      expect(answer).toMatchObject({ replyToId: question.id, mentions: [ann.userId, cat.userId].sort(), attachments: ['fil_notes'] });
      const mentions = await eventsOf(t, `user:${ann.userId}`, 'chat.mention.created');
      expect(mentions.at(-1)!.payload).toEqual({ conversationId: g.id, messageId: answer.id, senderId: ben.userId, userId: ann.userId });
      expect((await eventsOf(t, `user:${eve.userId}`, 'chat.mention.created')).filter((e) => e.payload.messageId === answer.id)).toEqual([]);
      const other = await group(t, cat, [ben]);
      const foreign = await send(t, cat, other.id, 'elsewhere');
      expect((await api(t, ben, 'POST', `/conversations/${g.id}/messages`, { body: 'x', replyToId: foreign.id })).json().code).toBe('CHAT_REPLY_NOT_FOUND');
    });

    it('edits keep their history; only the sender edits', async () => {
      const g = await group(t, ann, [ben]);
      const m = await send(t, ann, g.id, 'frist');
      t.clock.advance(5000);
      expect((await api(t, ben, 'PATCH', `/conversations/${g.id}/messages/${m.id}`, { body: 'hacked' })).statusCode).toBe(403);
      const edited = await api(t, ann, 'PATCH', `/conversations/${g.id}/messages/${m.id}`, { body: 'first' }, { 'if-match': '"1"' });
      expect(edited.statusCode, edited.body).toBe(200);
      expect(edited.json()).toMatchObject({ body: 'first', editCount: 1, version: 2, editedAt: t.clock.now().toISOString() });
      expect((await api(t, ann, 'PATCH', `/conversations/${g.id}/messages/${m.id}`, { body: 'stale' }, { 'if-match': '"1"' })).statusCode).toBe(412);
      await ok(api(t, ann, 'PATCH', `/conversations/${g.id}/messages/${m.id}`, { body: 'first!', version: 2 }));
      const history = await ok(api(t, ben, 'GET', `/conversations/${g.id}/messages/${m.id}/edits`));
      expect(history.items.map((e: any) => e.body)).toEqual(['frist', 'first']);
      expect(history.items[0]).toMatchObject({ writtenAt: m.createdAt });
      const updated = await eventsOf(t, `conversation:${g.id}`, 'chat.message.updated');
      expect(updated.map((e) => e.payload.body)).toEqual(['first', 'first!']);
    });

    it('deletes leave a tombstone; sender, group admins and site admins may delete', async () => {
      const admin = await signUpAdmin(t);
      const g = await group(t, ann, [ben, cat]);
      await ok(api(t, ann, 'PATCH', `/conversations/${g.id}/members/${ben.userId}`, { role: 'admin' }));
      const own = await send(t, cat, g.id, 'oops');
      const moderated = await send(t, cat, g.id, 'rude');
      const byAdmin = await send(t, cat, g.id, 'spam');
      const kept = await send(t, ann, g.id, 'owner speaks');
      expect((await api(t, cat, 'DELETE', `/conversations/${g.id}/messages/${kept.id}`)).json().code).toBe('FORBIDDEN');
      expect((await api(t, dan, 'DELETE', `/conversations/${g.id}/messages/${kept.id}`)).statusCode).toBe(404);
      expect((await api(t, cat, 'DELETE', `/conversations/${g.id}/messages/${own.id}`)).statusCode).toBe(204);
      expect((await api(t, ben, 'DELETE', `/conversations/${g.id}/messages/${moderated.id}`)).statusCode).toBe(204);
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/conversations/${g.id}/messages/${byAdmin.id}`, headers: bearer(admin.accessToken) })).statusCode).toBe(204);
      const history = await ok(api(t, ann, 'GET', `/conversations/${g.id}/messages?after=0`));
      expect(history.items.map((m: any) => [m.seq, m.body, m.deletedAt !== null])).toEqual([
        [1, null, true],
        [2, null, true],
        [3, null, true],
        [4, 'owner speaks', false],
      ]);
      const row = await t.core.database.db.selectFrom('chat_message').selectAll().where('id', '=', moderated.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ body: null, deleted_by: ben.userId });
      expect((await eventsOf(t, `conversation:${g.id}`, 'chat.message.deleted')).map((e) => e.payload.deletedBy)).toEqual([cat.userId, ben.userId, admin.userId]);
      expect((await api(t, cat, 'PATCH', `/conversations/${g.id}/messages/${own.id}`, { body: 'back' })).json().code).toBe('CHAT_MESSAGE_DELETED');
    });

    it('reactions: once per emoji and person, counted, taken back', async () => {
      const g = await group(t, ann, [ben, cat]);
      const m = await send(t, ann, g.id, 'Exam moved to Friday');
      const path = `/conversations/${g.id}/messages/${m.id}/reactions`;
      expect((await api(t, ben, 'POST', path, { emoji: '👍' })).statusCode).toBe(201);
      expect((await api(t, ben, 'POST', path, { emoji: '👍' })).statusCode).toBe(201);
      const withCat = await ok(api(t, cat, 'POST', path, { emoji: '👍' }), 201);
      expect(withCat.reactions).toEqual([{ emoji: '👍', count: 2, mine: true }]);
      expect((await api(t, ben, 'DELETE', `${path}/${encodeURIComponent('👍')}`)).statusCode).toBe(204);
      expect((await api(t, ben, 'DELETE', `${path}/${encodeURIComponent('👍')}`)).json().code).toBe('CHAT_REACTION_NOT_FOUND');
      expect((await ok(api(t, ann, 'GET', `/conversations/${g.id}/messages/${m.id}`))).reactions).toEqual([{ emoji: '👍', count: 1, mine: false }]);
      expect((await eventsOf(t, `conversation:${g.id}`)).filter((e) => e.type.startsWith('chat.reaction')).map((e) => e.type)).toEqual(['chat.reaction.added', 'chat.reaction.added', 'chat.reaction.removed']);
    });

    it('a report reaches the administrators once', async () => {
      const g = await group(t, ann, [ben]);
      const m = await send(t, ann, g.id, 'something bad');
      const report = await api(t, ben, 'POST', `/conversations/${g.id}/messages/${m.id}/reports`, { reason: 'harassment' });
      expect(report.statusCode, report.body).toBe(201);
      expect((await api(t, ben, 'POST', `/conversations/${g.id}/messages/${m.id}/reports`, { reason: 'again' })).json().code).toBe('CHAT_ALREADY_REPORTED');
      expect((await api(t, eve, 'POST', `/conversations/${g.id}/messages/${m.id}/reports`, { reason: 'nosy' })).statusCode).toBe(404);
      const reported = (await eventsOf(t, 'system', 'chat.message.reported')).filter((e) => e.payload.messageId === m.id);
      expect(reported.map((e) => e.payload)).toEqual([{ reportId: report.json().id, conversationId: g.id, messageId: m.id, reporterId: ben.userId, reason: 'harassment' }]);
    });

    it('limits how fast one person sends', async () => {
      const [p1, p2] = await people(t, 2, 'Fast');
      const g = await group(t, p1!, [p2!]);
      for (let i = 0; i < 30; i++) await send(t, p1!, g.id, `burst ${i}`);
      const limited = await api(t, p1!, 'POST', `/conversations/${g.id}/messages`, { body: 'one too many' });
      expect(limited.statusCode).toBe(429);
      expect(limited.json().code).toBe('CHAT_RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      await send(t, p2!, g.id, 'others are not limited');
      t.clock.advance(10_001);
      await send(t, p1!, g.id, 'after the window');
    });

    it('sends that share a transaction count towards the limit, and the same clientMessageId twice among them is stored once', async () => {
      const [p1, p2] = await people(t, 2, 'Batched');
      const g = await group(t, p1!, [p2!]);
      // The first two sends run at once, a batch each (on SQLite chat runs two at once); the others arrive meanwhile and share the next transaction.
      const post = (body: string, clientMessageId: string) => api(t, p1!, 'POST', `/conversations/${g.id}/messages`, { body, clientMessageId });
      const [, , ...twice] = await Promise.all([post('opener', 'opener'), post('second opener', 'opener-b'), post('dup', 'dup-2'), post('dup', 'dup-2')]);
      expect(twice.map((r) => r.statusCode).sort()).toEqual([200, 201]);
      expect(twice[0]!.json().id).toBe(twice[1]!.json().id);
      // PostgreSQL runs batches side by side; one does not see what another has not committed, so
      // there the limit is kept within a batch only (docs/chat.md).
      if (dialect === 'postgres') return;
      const burst = await Promise.all([post('opener 2', 'opener-2'), post('opener 3', 'opener-3'), ...Array.from({ length: 30 }, (_, i) => post(`burst ${i}`, `burst-${i}`))]);
      // Three were sent before: 27 more fit in the limit of 30.
      expect(burst.map((r) => r.statusCode).sort()).toEqual([...Array(27).fill(201), ...Array(5).fill(429)]);
      expect((await ok(api(t, p1!, 'GET', `/conversations/${g.id}`))).lastSeq).toBe(30);
    });
    it('in one shared transaction, each send gets its own answer: a non-member, a sender at the limit, a resend, a blocked direct message, and a send that goes through', async () => {
      const [p1, p2, p3, p4, p5] = (await people(t, 5, 'Mixed')) as [SignedIn, SignedIn, SignedIn, SignedIn, SignedIn];
      const g = await group(t, p1, [p2, p3]);
      const d = await direct(t, p4, p5);
      for (let i = 0; i < 30; i++) await send(t, p2, g.id, `burst ${i}`);
      const stored = await send(t, p3, g.id, { body: 'first', clientMessageId: 'once' });
      await ok(api(t, p5, 'POST', '/conversations/blocks', { userId: p4.userId }), 201);
      const post = (user: SignedIn, id: string, body: string, clientMessageId?: string) => api(t, user, 'POST', `/conversations/${id}/messages`, { body, ...(clientMessageId ? { clientMessageId } : {}) });
      // The first two sends run at once, a batch each; the others arrive meanwhile and share the next transaction (on SQLite).
      const [opener, secondOpener, outsider, limited, resent, blockedSend, through] = await Promise.all([
        post(p1, g.id, 'opener'),
        post(p1, g.id, 'second opener'),
        post(p4, g.id, 'not a member'),
        post(p2, g.id, 'one too many'),
        post(p3, g.id, 'first', 'once'),
        post(p4, d.id, 'hello?'),
        post(p1, g.id, 'goes through'),
      ]);
      expect([opener, secondOpener, outsider, limited, resent, blockedSend, through].map((r) => r.statusCode)).toEqual([201, 201, 404, 429, 200, 403, 201]);
      expect([outsider, limited, blockedSend].map((r) => r.json().code)).toEqual(['CHAT_CONVERSATION_NOT_FOUND', 'CHAT_RATE_LIMITED', 'CHAT_BLOCKED']);
      expect(resent.json().id).toBe(stored.id);
      expect([opener, secondOpener, through].map((r) => r.json().seq).sort()).toEqual([32, 33, 34]);
    });
  });

  describe('blocks', () => {
    it('after a block, neither person can open or write in their direct conversation; groups are unaffected', async () => {
      const [p1, p2, p3] = (await people(t, 3, 'Blocker')) as [SignedIn, SignedIn, SignedIn];
      const d = await direct(t, p1, p2);
      const g = await group(t, p1, [p2]);
      const block = await api(t, p1, 'POST', '/conversations/blocks', { userId: p2.userId });
      expect(block.statusCode, block.body).toBe(201);
      expect(block.json()).toMatchObject({ userId: p2.userId, displayName: 'Blocker 2' });
      expect((await api(t, p1, 'POST', '/conversations/blocks', { userId: p2.userId })).statusCode).toBe(201);
      expect((await api(t, p2, 'POST', `/conversations/${d.id}/messages`, { body: 'hey' })).json().code).toBe('CHAT_BLOCKED');
      expect((await api(t, p1, 'POST', `/conversations/${d.id}/messages`, { body: 'hey' })).json().code).toBe('CHAT_BLOCKED');
      expect((await api(t, p2, 'POST', '/conversations', { kind: 'direct', userId: p1.userId })).statusCode).toBe(403);
      await send(t, p2, g.id, 'groups still work');
      expect((await ok(api(t, p1, 'GET', '/conversations/blocks'))).items.map((b: any) => b.userId)).toEqual([p2.userId]);
      expect((await ok(api(t, p2, 'GET', '/conversations/blocks'))).items).toEqual([]);
      expect((await api(t, p1, 'POST', '/conversations/blocks', { userId: p1.userId })).statusCode).toBe(422);
      expect((await api(t, p1, 'POST', '/conversations/blocks', { userId: 'usr_nobody' })).statusCode).toBe(422);
      expect((await api(t, p2, 'DELETE', `/conversations/blocks/${p1.userId}`)).json().code).toBe('CHAT_BLOCK_NOT_FOUND');
      expect((await api(t, p1, 'DELETE', `/conversations/blocks/${p2.userId}`)).statusCode).toBe(204);
      const again = await send(t, p2, d.id, 'friends again');
      // A direct message names its one recipient.
      expect((await eventsOf(t, `conversation:${d.id}`, 'chat.message.created')).find((e) => e.payload.messageId === again.id)!.payload).toMatchObject({ conversationKind: 'direct', recipientIds: [p1.userId] });
      await direct(t, p3, p2);
    });
  });

  describe('read state', () => {
    it('watermarks move forward only, give unread counts, and are visible to the other members', async () => {
      const [p1, p2] = await people(t, 2, 'Watcher');
      const g = await group(t, p1!, [p2!]);
      for (let i = 0; i < 5; i++) await send(t, p1!, g.id, `m${i}`);
      expect((await ok(api(t, p2!, 'GET', `/conversations/${g.id}`))).me).toMatchObject({ unreadCount: 5, readSeq: 0 });
      expect((await ok(api(t, p1!, 'GET', `/conversations/${g.id}`))).me).toMatchObject({ unreadCount: 0, readSeq: 5 });
      expect(await ok(api(t, p2!, 'POST', `/conversations/${g.id}/read`, { deliveredSeq: 5 }))).toEqual({ conversationId: g.id, readSeq: 0, deliveredSeq: 5, lastSeq: 5, unreadCount: 5 });
      expect(await ok(api(t, p2!, 'POST', `/conversations/${g.id}/read`, { readSeq: 3 }))).toMatchObject({ readSeq: 3, deliveredSeq: 5, unreadCount: 2 });
      expect(await ok(api(t, p2!, 'POST', `/conversations/${g.id}/read`, { readSeq: 1 }))).toMatchObject({ readSeq: 3, unreadCount: 2 });
      expect(await ok(api(t, p2!, 'POST', `/conversations/${g.id}/read`, { readSeq: 99 }))).toMatchObject({ readSeq: 5, unreadCount: 0 });
      const receipts = await ok(api(t, p1!, 'GET', `/conversations/${g.id}/members`));
      expect(receipts.items.find((m: any) => m.userId === p2!.userId)).toMatchObject({ readSeq: 5, deliveredSeq: 5 });
      const reads = await eventsOf(t, `conversation:${g.id}`, 'chat.conversation.read');
      expect(reads.map((e) => e.payload)).toEqual([
        { conversationId: g.id, userId: p2!.userId, readSeq: 0, deliveredSeq: 5 },
        { conversationId: g.id, userId: p2!.userId, readSeq: 3, deliveredSeq: 5 },
        { conversationId: g.id, userId: p2!.userId, readSeq: 5, deliveredSeq: 5 },
      ]);
      expect((await api(t, p2!, 'POST', `/conversations/${g.id}/read`, {})).statusCode).toBe(422);
    });
  });
});
