import type { Kysely } from 'kysely';

/**
 * Erasure of a deleted account's content: posts and comments that must keep their place (others
 * answered them) become tombstones marked by `erased_at`; the indexes let the erasure job find a
 * user's comments, reactions, reports and the blocks against them in bounded batches.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['community_post', 'community_comment']) {
    await db.schema.alterTable(table).addColumn('erased_at', 'text').execute();
  }
  await db.schema.createIndex('community_comment_author').on('community_comment').columns(['author_id', 'id']).execute();
  await db.schema.createIndex('community_reaction_user').on('community_reaction').columns(['user_id', 'target_id']).execute();
  await db.schema.createIndex('community_report_reporter').on('community_report').columns(['reporter_id']).execute();
  await db.schema.createIndex('community_block_blocked').on('community_block').columns(['blocked_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ['community_block_blocked', 'community_report_reporter', 'community_reaction_user', 'community_comment_author']) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
  for (const table of ['community_post', 'community_comment']) await db.schema.alterTable(table).dropColumn('erased_at').execute();
}
