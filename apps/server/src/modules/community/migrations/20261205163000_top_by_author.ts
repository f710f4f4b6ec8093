import type { Kysely } from 'kysely';

/**
 * "top" feeds read each source's posts in score order, as "recent" feeds read them in time order:
 * a followed author's or a course's best posts come first from the index, and a page stops reading
 * a source once its posts score below the page so far. The site-wide (hot_score, id) index had no
 * reader (no feed ranks every post of the site) and only cost writes: every reaction moves the score.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('community_post_author_hot').on('community_post').columns(['author_id', 'hot_score', 'id']).execute();
  await db.schema.createIndex('community_post_course_hot').on('community_post').columns(['course_id', 'hot_score', 'id']).execute();
  await db.schema.dropIndex('community_post_hot').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('community_post_hot').on('community_post').columns(['hot_score', 'id']).execute();
  await db.schema.dropIndex('community_post_course_hot').execute();
  await db.schema.dropIndex('community_post_author_hot').execute();
}
