import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { communityApp, type CommunityTestApp } from '../../../test/support/community.js';
import { signUp, type SignedIn } from '../../../test/support/identity.js';
import { recordStatements } from '../../../test/support/statements.js';

/** "update community_post", "insert core_events", …: what each statement of a transaction does to which table. */
const tables = (statements: string[]) =>
  statements.map((s) => {
    const verb = s.split(' ')[0]!;
    const table = verb === 'select' ? [...s.matchAll(/from "(\w+)"/g)].at(-1)?.[1] : /^\w+ (?:into |from )?"(\w+)"/.exec(s)?.[1];
    return `${verb} ${table}`;
  });

/**
 * What a reaction or a comment costs in its transaction, counted at the SQLite driver. Counters and
 * the "top" score are exact under concurrency on both dialects (comments-reactions.test.ts).
 */
describe('community: a reaction or a comment moves the post counters and score in one statement (sqlite)', () => {
  let t: CommunityTestApp;
  let author: SignedIn;
  let reader: SignedIn;
  const statements = recordStatements();

  beforeAll(async () => {
    t = await communityApp({ dialect: 'sqlite' });
    [author, reader] = await Promise.all([signUp(t), signUp(t)]);
  }, 180_000);
  afterAll(async () => {
    statements.restore();
    await t?.destroy();
  });

  const ok = async (res: Promise<{ statusCode: number; body: string }>, status: number) => expect((await res).statusCode, (await res).body).toBe(status);

  it('a reaction on a post: the post lock, the reaction, one update of the counters and the score, the event', async () => {
    const post = await t.post(author);
    const react = await statements.transactionOf(() => ok(t.call(reader, 'POST', `/posts/${post.id}/reactions`, { kind: 'like' }), 201));
    expect(tables(react)).toEqual(['update community_post', 'insert community_reaction', 'update community_post', 'insert core_events', 'insert core_event_scopes']);
    const unreact = await statements.transactionOf(() => ok(t.call(reader, 'DELETE', `/posts/${post.id}/reactions/like`), 204));
    expect(tables(unreact)).toEqual(['update community_post', 'delete community_reaction', 'update community_post', 'insert core_events', 'insert core_event_scopes']);
  });

  it('a comment: the post lock, the comment, one update of the count and the score, the event', async () => {
    const post = await t.post(author);
    const comment = await statements.transactionOf(() => ok(t.call(reader, 'POST', `/posts/${post.id}/comments`, { body: 'counted' }), 201));
    expect(tables(comment)).toEqual(['update community_post', 'insert community_comment', 'update community_post', 'insert core_events', 'insert core_event_scopes']);
  });
});
