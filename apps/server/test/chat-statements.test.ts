import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, chatApp, direct, group, ok, people, type ChatTestApp } from './support/chat.js';
import type { SignedIn } from './support/identity.js';
import { recordStatements } from './support/statements.js';

/** `insert core_events`, `select chat_conversation` (a select's outermost table is the last it names after `from` or `join`). */
const tables = (statements: string[]) =>
  statements.map((s) => {
    const verb = s.split(' ')[0]!;
    const table = verb === 'select' ? [...s.matchAll(/(?:from|join) "(\w+)"/g)].at(-1)?.[1] : /^\w+ (?:into )?"(\w+)"/.exec(s)?.[1];
    return `${verb} ${table}`;
  });

/** The statements of each transaction that stored messages (each driver batch begins with `begin`). */
const messageTransactions = (seen: string[]) =>
  seen
    .join('\n')
    .split(/^begin$/m)
    .filter((tx) => tx.includes('insert into "chat_message"'));
/** A send's context read: the only select of a send that looks for a client message id. */
const contextReads = (tx: string) => tx.split(/\n(?=\S)/).filter((statement) => statement.startsWith('select') && statement.includes('client_message_id')).length;

describe('chat: what a message costs the database (SQLite)', () => {
  let t: ChatTestApp;
  let ann: SignedIn, ben: SignedIn, cat: SignedIn;
  let socket: Socket;
  const statements = recordStatements();

  beforeAll(async () => {
    t = await chatApp({ dialect: 'sqlite', background: true, clock: { now: () => new Date() } as never });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    [ann, ben, cat] = (await people(t, 3, 'Counted')) as [SignedIn, SignedIn, SignedIn];
    socket = connect(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, { path: '/socket.io', transports: ['websocket'], auth: { token: ann.accessToken }, reconnection: false, forceNew: true });
    await new Promise((resolve, reject) => {
      socket.once('realtime:ready', resolve);
      socket.once('connect_error', reject);
    });
  }, 180_000);
  afterAll(async () => {
    statements.restore();
    socket?.disconnect();
    await t?.destroy();
  });

  const viaSocket = (conversationId: string, body: string) => async () => {
    const ack = await socket.emitWithAck('chat:send', { conversationId, body, clientMessageId: `${conversationId}-${body}` });
    expect(ack.ok, JSON.stringify(ack)).toBe(true);
  };

  it('a group message is one transaction of one read and eight writes, whatever the group size; the next one of a burst skips the notify job', async () => {
    const g = await group(t, ann, [ben, cat]);
    const first = await statements.transactionOf(viaSocket(g.id, 'one'));
    expect(tables(first)).toEqual([
      'select chat_conversation', // membership, resend, send limit, blocks and the seq in one read
      // The batch's flush, a statement each for all its messages:
      'update chat_conversation', // the seqs
      'insert chat_message',
      'insert chat_message_search', // the search index
      'insert chat_message_fts',
      'update chat_member', // the senders' watermarks
      'insert core_jobs', // the notify jobs of this window
      'insert core_events', // the transaction's events, appended last
      'insert core_event_scopes',
    ]);
    // Nothing reads the member list: the room reaches the members, the notify job decides later.
    expect(first.join('\n')).not.toMatch(/select "user_id" from "chat_member"/);
    const second = await statements.transactionOf(viaSocket(g.id, 'two'));
    expect(tables(second)).toEqual(tables(first).filter((t) => t !== 'insert core_jobs'));
  });

  it('sends that arrive together share a commit and one append of their events, each with its own seq, and a refused one disturbs none', async () => {
    const g = await group(t, ann, [ben, cat]);
    const principals = await Promise.all([ann, ben, cat].map((u) => t.core.access.authenticate({ headers: { authorization: `Bearer ${u.accessToken}` }, ip: '127.0.0.1' })));
    const bodies = Array.from({ length: 9 }, (_, i) => `together-${i}`);
    statements.seen.length = 0;
    // As the socket gateway does: each command calls the service as soon as it arrives, without waiting for the others.
    const [refused, ...sent] = await Promise.allSettled([
      t.chat.service.send(principals[0]!, g.id, { body: 'nope', replyToId: 'msg_missing' }),
      ...bodies.map((body, i) => t.chat.service.send(principals[i % 3]!, g.id, { body, clientMessageId: body })),
    ]);
    expect(refused).toMatchObject({ status: 'rejected', reason: { code: 'CHAT_REPLY_NOT_FOUND' } });
    expect(sent.map((r) => (r.status === 'fulfilled' ? r.value.message.seq : r.reason)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Chat runs two batches at once on SQLite: the refused send and ann's first started one each, at
    // once, and shared the driver's commit; the other eight waited and shared the next transaction.
    const transactions = messageTransactions(statements.seen);
    // Each statement of the flush and of the append ran once for those eight. The context read ran once
    // for their batch, and again for each send whose sender had sent earlier in it (ben's and cat's
    // second and third, ann's second): the batch's read counts none of its sends against the limit.
    expect(transactions.map(contextReads)).toEqual([2, 6]);
    const counts = (pattern: RegExp) => transactions.map((tx) => tx.match(pattern)?.length);
    for (const write of [/^update "chat_conversation"/gm, /^insert into "chat_message"/gm, /^insert into "chat_message_fts"/gm, /^update "chat_member"/gm, /^insert into "core_events"/gm]) {
      expect(counts(write), String(write)).toEqual([1, 1]);
    }
  });

  it('sends of different people that share a transaction are checked by one read, whatever their conversations', async () => {
    const [g, d] = [await group(t, ann, [ben, cat]), await direct(t, ben, cat)];
    const principals = await Promise.all([ann, ben, cat].map((u) => t.core.access.authenticate({ headers: { authorization: `Bearer ${u.accessToken}` }, ip: '127.0.0.1' })));
    statements.seen.length = 0;
    const sent = await Promise.all([
      // The first two run at once, a batch each (chat runs two at once on SQLite); the others share the next transaction.
      t.chat.service.send(principals[0]!, g.id, { body: 'opener' }),
      t.chat.service.send(principals[1]!, d.id, { body: 'second opener' }),
      t.chat.service.send(principals[0]!, g.id, { body: 'in the group' }),
      t.chat.service.send(principals[1]!, d.id, { body: 'direct' }),
      t.chat.service.send(principals[2]!, g.id, { body: 'also in the group' }),
    ]);
    expect(sent.map((s) => s.created)).toEqual([true, true, true, true, true]);
    // The openers' batches (one read each, one commit for both), then the transaction the three others shared.
    expect(messageTransactions(statements.seen).map(contextReads)).toEqual([2, 1]);
  });

  it('the notify jobs of a transaction\'s sends are one insert, one job per conversation and window', async () => {
    // New people: a direct conversation is one per pair, and this node remembers the windows it scheduled.
    const [dan, eve, fay] = (await people(t, 3, 'Notified')) as [SignedIn, SignedIn, SignedIn];
    const [g, d, o] = [await group(t, dan, [eve, fay]), await direct(t, eve, fay), await direct(t, dan, fay)];
    const principals = await Promise.all([dan, eve, fay].map((u) => t.core.access.authenticate({ headers: { authorization: `Bearer ${u.accessToken}` }, ip: '127.0.0.1' })));
    statements.seen.length = 0;
    await Promise.all([
      // The first two run at once, a batch each; the other three share the next transaction.
      t.chat.service.send(principals[0]!, o.id, { body: 'opener' }),
      t.chat.service.send(principals[2]!, o.id, { body: 'second opener' }),
      t.chat.service.send(principals[0]!, g.id, { body: 'to the group' }),
      t.chat.service.send(principals[1]!, d.id, { body: 'direct' }),
      t.chat.service.send(principals[2]!, g.id, { body: 'to the group again' }),
    ]);
    const shared = messageTransactions(statements.seen).at(-1)!;
    const jobInserts = shared.split(/\n(?=\S)/).filter((statement) => statement.startsWith('insert into "core_jobs"'));
    expect(jobInserts).toHaveLength(1);
    // Two rows: the group's window and the direct conversation's.
    expect(jobInserts[0]!.split(' values ')[1]!.match(/\), \(/g)).toHaveLength(1);
  });

  it('the same clientMessageId twice in one transaction is stored once: the second send is answered from the batch, which does not run again', async () => {
    const d = await direct(t, ann, cat);
    const principal = (await t.core.access.authenticate({ headers: { authorization: `Bearer ${ann.accessToken}` }, ip: '127.0.0.1' }))!;
    statements.seen.length = 0;
    const [opener, secondOpener, first, again] = await Promise.all([
      // The first two run at once, a batch each (chat runs two at once on SQLite); the other two share the next transaction.
      t.chat.service.send(principal, d.id, { body: 'opener' }),
      t.chat.service.send(principal, d.id, { body: 'second opener' }),
      t.chat.service.send(principal, d.id, { body: 'twice', clientMessageId: 'twice' }),
      t.chat.service.send(principal, d.id, { body: 'twice', clientMessageId: 'twice' }),
    ]);
    expect([opener.created, secondOpener.created, first.created, again.created]).toEqual([true, true, true, false]);
    expect(again.message.id).toBe(first.message.id);
    // One insert of messages for each opener, one for the shared transaction: no unique violation made it run again.
    expect(statements.seen.filter((s) => s.startsWith('insert into "chat_message" ('))).toHaveLength(3);
  });

  it('the REST send costs the same; a resend only reads', async () => {
    const d = await direct(t, ann, ben);
    const post = () => ok(api(t, ann, 'POST', `/conversations/${d.id}/messages`, { body: 'rest', clientMessageId: 'rest-1' }), 201);
    expect(await statements.transactionOf(post)).toHaveLength(9);
    const resend = await statements.transactionOf(() => ok(api(t, ann, 'POST', `/conversations/${d.id}/messages`, { body: 'rest', clientMessageId: 'rest-1' }), 200));
    expect(tables(resend)).toEqual(['select chat_conversation']);
  });
});
