import { sql } from 'kysely';
import type { Db } from '../apps/server/src/core/db/database.js';
import { inParts } from '../apps/server/src/core/db/parts.js';
import { withTransaction } from '../apps/server/src/core/db/transaction.js';
import { newId } from '../apps/server/src/core/ids.js';
import { facetCountChanges } from '../apps/server/src/modules/directory/directory.facets.js';
import type { DialectName } from '../apps/server/src/modules/directory/directory.repo.js';
import { DEFAULT_VISIBILITY } from '../apps/server/src/modules/directory/directory.schemas.js';
import { dedupeSkills, rowOf, type ProfileData } from '../apps/server/src/modules/directory/directory.service.js';
import type { FacetCountRow } from '../apps/server/src/modules/directory/directory.tables.js';
import type { seededRandom } from './fixtures.js';

type Random = ReturnType<typeof seededRandom>;

/** Facet values of the seeded directory: the server draws profiles from them, the load varies its filters over them. */
export const COUNTRIES = ['Ghana', 'France', 'Brazil', 'India', 'Japan', 'Kenya', 'Mexico', 'Germany', 'Canada', 'Vietnam', 'Spain', 'Nigeria'];
export const PROGRAMS = ['Mathematics', 'Physics', 'Biology', 'History', 'Economics', 'Computer Science', 'Chemistry', 'Literature', 'Music', 'Engineering'];
export const DEPARTMENTS = ['Science', 'Humanities', 'Engineering', 'Arts', 'Business'];
export const INDUSTRIES = ['Software', 'Education', 'Health', 'Finance', 'Energy', 'Media', 'Government', 'Research'];

export const SKILLS = ['Rust', 'SQL', 'Python', 'Writing', 'Teaching', 'Design', 'Statistics', 'Leadership', 'Spanish', 'Research'];
const FIRST = ['Ada', 'Kwame', 'Sofia', 'Hiro', 'Amara', 'Lena', 'Omar', 'Priya', 'Mateo', 'Yuki', 'Chidi', 'Elena'];
const LAST = ['Okafor', 'Laurent', 'Marquez', 'Tanaka', 'Mensah', 'Schmidt', 'Haddad', 'Iyer', 'Silva', 'Nguyen', 'Kowalski', 'Byrne'];

/**
 * The alumni directory of the community bench: `count` unlinked profiles (externalId `A-<i>`, the
 * default visibility), stored as the directory's CSV import stores them — rows built by the
 * directory's own rowOf, their skills, full-text entries (SQLite) and maintained facet counts — but
 * inserted in batches of multi-row statements in one transaction (the import takes ~16 min for
 * 100,000: one transaction per 200 rows, a duplicate check per row).
 */
export async function seedDirectory(db: Db, dialect: DialectName, count: number, rnd: Random): Promise<void> {
  const now = new Date().toISOString();
  const rows = Array.from({ length: count }, (_, i) => {
    const first = rnd.pick(FIRST);
    const last = rnd.pick(LAST);
    const data: ProfileData = {
      name: `${first} ${last} ${i}`,
      email: `alum${i}@alumni.example`,
      graduationYear: rnd.int(1980, 2026),
      program: rnd.pick(PROGRAMS),
      department: rnd.pick(DEPARTMENTS),
      company: `${rnd.pick(LAST)} ${rnd.pick(['Labs', 'Ltd', 'Group', 'Works'])}`,
      jobTitle: null,
      industry: rnd.pick(INDUSTRIES),
      city: `City ${rnd.int(1, 300)}`,
      country: rnd.pick(COUNTRIES),
      skills: dedupeSkills([rnd.pick(SKILLS), rnd.pick(SKILLS)]),
      bio: i % 4 === 0 ? `Working on ${rnd.pick(SKILLS).toLowerCase()} and ${rnd.pick(SKILLS).toLowerCase()}.` : null,
      links: [],
      visibility: { ...DEFAULT_VISIBILITY },
    };
    return rowOf({ id: newId('alm'), user_id: null, external_id: `A-${i}`, doc: i + 1, version: 1, created_at: now, updated_at: now }, data);
  });
  const counts = new Map<string, FacetCountRow>();
  for (const row of rows) {
    for (const { facet, level, value, delta } of facetCountChanges(null, row)) {
      const key = JSON.stringify([facet, level, value]);
      const counted = counts.get(key) ?? { facet, level, value, count: 0 };
      counted.count += delta;
      counts.set(key, counted);
    }
  }
  await withTransaction(db, async (tx) => {
    for (const part of inParts(rows)) {
      await tx.insertInto('directory_profile').values(part).execute();
      await tx.insertInto('directory_profile_skill').values(part.flatMap((row) => (JSON.parse(row.skills) as string[]).map((skill) => ({ profile_id: row.id, skill })))).execute();
      if (dialect === 'sqlite') {
        await tx.insertInto('directory_profile_fts').values(part.map((row) => ({ rowid: row.doc, search_public: row.search_public, search_members: row.search_members, search_all: row.search_all }))).execute();
      }
    }
    for (const part of inParts([...counts.values()])) await tx.insertInto('directory_facet_count').values(part).execute();
    if (dialect === 'postgres') await sql`select setval('directory_profile_doc_seq', ${count})`.execute(tx);
    // A write that moves the data version and records no change: every node's caches and facet index start over.
    await tx.updateTable('directory_state').set((eb) => ({ version: eb('version', '+', 1) })).where('name', '=', 'data').execute();
  });
}
