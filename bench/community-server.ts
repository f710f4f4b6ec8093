// Lyceum with an alumni directory of 100,000 profiles (inserted in batches as the directory stores
// them) and a community of 2,000 authors with 200,000 posts, some readers following ~100 of them
// (at BENCH_SCALE=1). Posts and follows are bulk-inserted rows shaped as the community module writes them.
import { newId } from '../apps/server/src/core/ids.js';
import { PROGRAMS, seedDirectory, SKILLS } from './community-data.js';
import { accessTokens, benchApp, bulkUsers, insertMany, portOf, seededRandom } from './fixtures.js';
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
const posts = Array.from({ length: postCount }, (_, i) => {
  // Spread over the last 90 days, oldest first.
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
});
for (let i = 0; i < posts.length; i += 20_000) await insertMany(lyceum, 'community_post', posts.slice(i, i + 20_000), 250);
const followed = Math.min(100, authorCount);
const follows = readerIds.flatMap((reader, r) =>
  Array.from({ length: followed }, (_, k) => ({ follower_id: reader, followee_id: authorIds[(r * 37 + k * Math.floor(authorCount / followed)) % authorCount], created_at: new Date().toISOString() })),
);
await insertMany(lyceum, 'community_follow', follows);

const readerTokens = await accessTokens(lyceum, readerIds, 'student');
process.send?.({
  port: portOf(lyceum),
  seedSeconds: (performance.now() - started) / 1000,
  directorySeconds,
  counts: { profiles: profileCount, authors: authorCount, posts: postCount, followed },
  readerTokens,
});
