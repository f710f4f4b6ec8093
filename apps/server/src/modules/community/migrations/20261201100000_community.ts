import type { CreateTableBuilder, Kysely } from 'kysely';
import { sql } from 'kysely';
import { isPostgres } from '../../../core/db/portable.js';

/**
 * Posts, two-level comments, reactions (one per user, target and kind), follows and per-user
 * follower counters. Counters live on the rows they count and change in the writing transaction.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const float = isPostgres(db) ? 'double precision' : 'real';
  const counters = (table: CreateTableBuilder<any, any>): CreateTableBuilder<any, any> => {
    for (const name of ['reaction_count', 'like_count', 'love_count', 'insightful_count', 'celebrate_count']) {
      table = table.addColumn(name, 'integer', (c) => c.notNull().defaultTo(0));
    }
    return table;
  };

  await counters(
    db.schema
      .createTable('community_post')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('author_id', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('attachment_ids', 'text', (c) => c.notNull())
      .addColumn('visibility', 'text', (c) => c.notNull())
      .addColumn('course_id', 'text')
      .addColumn('mention_ids', 'text', (c) => c.notNull())
      .addColumn('comment_count', 'integer', (c) => c.notNull().defaultTo(0)),
  )
    .addColumn('hot_score', sql.raw(float), (c) => c.notNull())
    .addColumn('pinned_at', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('community_post_recent').on('community_post').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('community_post_author').on('community_post').columns(['author_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('community_post_course').on('community_post').columns(['course_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('community_post_hot').on('community_post').columns(['hot_score', 'id']).execute();

  await counters(
    db.schema
      .createTable('community_comment')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('post_id', 'text', (c) => c.notNull().references('community_post.id').onDelete('cascade'))
      .addColumn('parent_id', 'text')
      .addColumn('author_id', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('mention_ids', 'text', (c) => c.notNull())
      .addColumn('reply_count', 'integer', (c) => c.notNull().defaultTo(0)),
  )
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('community_comment_thread').on('community_comment').columns(['post_id', 'parent_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('community_comment_parent').on('community_comment').columns(['parent_id']).execute();

  await db.schema
    .createTable('community_reaction')
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('post_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('community_reaction_pk', ['target_type', 'target_id', 'user_id', 'kind'])
    .execute();
  await db.schema.createIndex('community_reaction_list').on('community_reaction').columns(['target_type', 'target_id', 'created_at', 'user_id', 'kind']).execute();
  await db.schema.createIndex('community_reaction_post').on('community_reaction').columns(['post_id']).execute();

  await db.schema
    .createTable('community_follow')
    .addColumn('follower_id', 'text', (c) => c.notNull())
    .addColumn('followee_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('community_follow_pk', ['follower_id', 'followee_id'])
    .execute();
  await db.schema.createIndex('community_follow_followee').on('community_follow').columns(['followee_id', 'created_at', 'follower_id']).execute();
  await db.schema.createIndex('community_follow_follower').on('community_follow').columns(['follower_id', 'created_at', 'followee_id']).execute();

  await db.schema
    .createTable('community_user_stats')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('follower_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('following_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['community_user_stats', 'community_follow', 'community_reaction', 'community_comment', 'community_post']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
