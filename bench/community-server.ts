// Lyceum with an alumni directory of 100,000 profiles (loaded through the directory's own CSV
// import) and a community of 2,000 authors with 200,000 posts, some readers following ~100 of them
// (at BENCH_SCALE=1). Posts and follows are bulk-inserted rows shaped as the community module writes them.
import { stringify } from 'csv-stringify/sync';
import { newId } from '../apps/server/src/core/ids.js';
import { COUNTRIES, DEPARTMENTS, INDUSTRIES, PROGRAMS } from './community-data.js';
import { accessTokens, benchApp, bulkUsers, insertMany, portOf, principalOf, seededRandom } from './fixtures.js';
import { scaled } from './support.js';

const SKILLS = ['Rust', 'SQL', 'Python', 'Writing', 'Teaching', 'Design', 'Statistics', 'Leadership', 'Spanish', 'Research'];
const FIRST = ['Ada', 'Kwame', 'Sofia', 'Hiro', 'Amara', 'Lena', 'Omar', 'Priya', 'Mateo', 'Yuki', 'Chidi', 'Elena'];
const LAST = ['Okafor', 'Laurent', 'Marquez', 'Tanaka', 'Mensah', 'Schmidt', 'Haddad', 'Iyer', 'Silva', 'Nguyen', 'Kowalski', 'Byrne'];

const lyceum = await benchApp({ postgres: process.env.BENCH_POSTGRES === '1' });
const { directory } = lyceum.product;
const rnd = seededRandom(6);
const started = performance.now();

// ── directory: a CSV file through POST /directory/import's service, run by its job ──
const profileCount = scaled(100_000, 200);
const [adminId] = await bulkUsers(lyceum, 1, 'admin');
const csv = stringify(
  Array.from({ length: profileCount }, (_, i) => {
    const first = rnd.pick(FIRST);
    const last = rnd.pick(LAST);
    return {
      externalId: `A-${i}`,
      name: `${first} ${last} ${i}`,
      email: `alum${i}@alumni.example`,
      graduationYear: rnd.int(1980, 2026),
      program: rnd.pick(PROGRAMS),
      department: rnd.pick(DEPARTMENTS),
      company: `${rnd.pick(LAST)} ${rnd.pick(['Labs', 'Ltd', 'Group', 'Works'])}`,
      industry: rnd.pick(INDUSTRIES),
      city: `City ${rnd.int(1, 300)}`,
      country: rnd.pick(COUNTRIES),
      skills: [rnd.pick(SKILLS), rnd.pick(SKILLS)].filter((s, n, all) => all.indexOf(s) === n).join('; '),
      bio: i % 4 === 0 ? `Working on ${rnd.pick(SKILLS).toLowerCase()} and ${rnd.pick(SKILLS).toLowerCase()}.` : '',
    };
  }),
  { header: true },
);
const imported = await directory.imports.start(principalOf(adminId!, 'admin'), csv);
let status = imported;
while (status.status === 'queued' || status.status === 'running') {
  await new Promise((resolve) => setTimeout(resolve, 250));
  status = await directory.imports.get(imported.id);
}
if (status.status !== 'succeeded' || status.created !== profileCount) throw new Error(`directory import ended ${status.status}: ${JSON.stringify(status)}`);
const importSeconds = (performance.now() - started) / 1000;

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
  importSeconds,
  counts: { profiles: profileCount, authors: authorCount, posts: postCount, followed },
  readerTokens,
});
