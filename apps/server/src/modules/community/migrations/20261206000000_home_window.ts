import type { Kysely } from 'kysely';
import { isPostgres } from '../../../core/db/portable.js';

/**
 * PostgreSQL's home feed looks for a `top` page among the site's best-scored posts first, as it looks
 * for a `recent` page among the newest (community_post_recent): that read needs the site-wide score
 * index back (20261205163000 dropped it). SQLite reads the home feed source by source, and does not.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await db.schema.createIndex('community_post_hot').on('community_post').columns(['hot_score', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await db.schema.dropIndex('community_post_hot').execute();
}
