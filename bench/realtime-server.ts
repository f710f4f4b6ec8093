// Lyceum for the realtime benchmark: 10,000 users with access tokens (at BENCH_SCALE=1), a group
// conversation of 1,000 members, and a direct conversation for every other pair of users (the
// sustained-throughput senders). Conversations go through the chat service.
import { accessTokens, benchApp, bulkUsers, portOf, principalOf, settleSeed } from './fixtures.js';
import { scaled } from './support.js';

const synchronous = process.env.BENCH_SQLITE_SYNCHRONOUS;
const lyceum = await benchApp({ postgres: process.env.BENCH_POSTGRES === '1', env: synchronous ? { SQLITE_SYNCHRONOUS: synchronous } : {} });
const { chat } = lyceum.product;
const started = performance.now();

const userCount = scaled(10_000, 200);
const groupSize = Math.min(1_000, userCount);
const userIds = await bulkUsers(lyceum, userCount, 'student', 'member');
const as = (i: number) => principalOf(userIds[i]!, 'student');

// The group: created with as many members as one request may name, then the rest added one by one.
const MAX_AT_CREATION = 200;
const { conversation: group } = await chat.service.createConversation(as(0), { kind: 'group', title: 'Everyone', memberIds: userIds.slice(1, Math.min(groupSize, MAX_AT_CREATION + 1)) });
for (let i = MAX_AT_CREATION + 1; i < groupSize; i++) await chat.service.addMember(as(0), group.id, { userId: userIds[i]! });

// Pairs (0,1), (2,3), …: each user sends to its partner in their direct conversation.
const pairs: Array<{ a: number; b: number; conversationId: string }> = [];
for (let i = 0; i + 1 < userCount; i += 2) {
  const { conversation } = await chat.service.createConversation(as(i), { kind: 'direct', userId: userIds[i + 1]! });
  pairs.push({ a: i, b: i + 1, conversationId: conversation.id });
}

await settleSeed(lyceum);
const tokens = await accessTokens(lyceum, userIds, 'student');
process.send?.({ port: portOf(lyceum), seedSeconds: (performance.now() - started) / 1000, groupId: group.id, groupSize, tokens, pairs });
