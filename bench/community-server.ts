// Lyceum with an alumni directory of 100,000 profiles (inserted in batches as the directory stores
// them) and a community of 2,000 authors with 200,000 posts, some readers following ~100 of them
// (at BENCH_SCALE=1). Posts and follows are bulk-inserted rows shaped as the community module writes them.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { newId } from '../apps/server/src/core/ids.js';
import { PROGRAMS, seedDirectory, SKILLS } from './community-data.js';
import { accessTokens, benchApp, bulkUsers, insertMany, portOf, seededRandom, settleSeed } from './fixtures.js';
import { scaled } from './support.js';

const lyceum = await benchApp({ postgres: process.env.BENCH_POSTGRES === '1' });
const rnd = seededRandom(6);
const started = performance.now();

// ── directory: profiles as the directory stores them, inserted in batches ──
const profileCount = scaled(100_000, 200);
await seedDirectory(lyceum.core.database.db, lyceum.core.database.dialect.name, profileCount, rnd);
const directorySeconds = (performance.now() - started) / 1000;

// ── community: authors, their posts, and readers who follow ~100 of them ──
const authorCount = scaled(2_000, 120);
const postCount = scaled(200_000, 1_000);
const authorIds = await bulkUsers(lyceum, authorCount, 'student', 'author');
const readerIds = await bulkUsers(lyceum, 20, 'student', 'reader');
const epoch2024 = Date.parse('2024-01-01T00:00:00Z');
const newest = Date.now();
/** Post `i` of the seed: spread over the last 90 days, oldest first. */
function seedPost(i: number) {
  const createdAt = new Date(newest - 90 * 86_400_000 + Math.floor((i / postCount) * 90 * 86_400_000)).toISOString();
  const reactions = rnd.int(0, 20);
  const comments = rnd.int(0, 5);
  return {
    id: newId('pst'), author_id: authorIds[rnd.int(0, authorCount - 1)], body: `Post ${i}: notes on ${rnd.pick(SKILLS)} and ${rnd.pick(PROGRAMS)}.`,
    attachment_ids: '[]', visibility: i % 5 === 0 ? 'followers' : 'public', course_id: null, mention_ids: '[]',
    comment_count: comments, reaction_count: reactions, like_count: reactions, love_count: 0, insightful_count: 0, celebrate_count: 0,
    // The "top" key, as community computes it (docs/community.md).
    hot_score: Math.log10(1 + reactions + 2 * comments) + (Date.parse(createdAt) - epoch2024) / 1000 / 45_000,
    pinned_at: null, version: 1, created_at: createdAt, updated_at: createdAt,
    moderation: 'visible', moderation_reason: null, moderated_by: null, moderated_at: null,
  };
}
// Built and inserted 20,000 at a time: no array of every post stays alive while the server serves.
for (let from = 0; from < postCount; from += 20_000) {
  await insertMany(lyceum, 'community_post', Array.from({ length: Math.min(20_000, postCount - from) }, (_, k) => seedPost(from + k)), 250);
}
const followed = Math.min(100, authorCount);
const follows = readerIds.flatMap((reader, r) =>
  Array.from({ length: followed }, (_, k) => ({ follower_id: reader, followee_id: authorIds[(r * 37 + k * Math.floor(authorCount / followed)) % authorCount], created_at: new Date().toISOString() })),
);
await insertMany(lyceum, 'community_follow', follows);
// Without planner statistics PostgreSQL sorted every post for the home feed's window instead of
// reading its index, and checked the words of every profile of a country (~0.5 s a search).
await settleSeed(lyceum);

// The facet index a node loads at start (docs/directory.md), loaded again for the directory the seed wrote after it.
await lyceum.product.directory.service.warmFacetIndex();

const readerTokens = await accessTokens(lyceum, readerIds, 'student');
// The seed's garbage (~1 GiB of heap at full size, mostly the directory's rows) stays until V8's next
// major GC, which a server under steady load may not run for the whole section: its RSS rows then
// measured the seed (~1 GiB on SQLite), not the server. One full collection before serving.
setFlagsFromString('--expose-gc');
(runInNewContext('gc') as () => void)();
process.send?.({
  port: portOf(lyceum),
  seedSeconds: (performance.now() - started) / 1000,
  directorySeconds,
  counts: { profiles: profileCount, authors: authorCount, posts: postCount, followed },
  readerTokens,
});
