import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../../../core/db/portable.js';

/**
 * Courses (with co-teachers and tags in side tables for filtering), lessons and enrollments.
 * Full-text search: an FTS5 table on SQLite (kept in step by the repo), a GIN index over
 * to_tsvector('simple', search_text) on PostgreSQL. No foreign keys to identity's tables: a module
 * owns its tables, and users are referred to by id.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('learning_course')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('capacity', 'integer')
    .addColumn('enrolled_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('enroll_opens_at', 'text')
    .addColumn('enroll_closes_at', 'text')
    .addColumn('prerequisites', 'text', (c) => c.notNull())
    .addColumn('search_text', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('published_at', 'text')
    .execute();
  await db.schema.createIndex('learning_course_created').on('learning_course').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('learning_course_title').on('learning_course').columns(['title', 'id']).execute();
  await db.schema.createIndex('learning_course_owner').on('learning_course').columns(['owner_id']).execute();

  await db.schema
    .createTable('learning_course_teacher')
    .addColumn('course_id', 'text', (c) => c.notNull().references('learning_course.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('learning_course_teacher_pk', ['course_id', 'user_id'])
    .execute();
  await db.schema.createIndex('learning_course_teacher_user').on('learning_course_teacher').columns(['user_id']).execute();

  await db.schema
    .createTable('learning_course_tag')
    .addColumn('course_id', 'text', (c) => c.notNull().references('learning_course.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('learning_course_tag_pk', ['course_id', 'tag'])
    .execute();
  await db.schema.createIndex('learning_course_tag_tag').on('learning_course_tag').columns(['tag']).execute();

  await db.schema
    .createTable('learning_lesson')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('course_id', 'text', (c) => c.notNull().references('learning_course.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('video_url', 'text')
    .addColumn('minutes', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('required', 'integer', (c) => c.notNull())
    .addColumn('prerequisites', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('learning_lesson_course').on('learning_lesson').columns(['course_id', 'position', 'id']).execute();

  await db.schema
    .createTable('learning_enrollment')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('course_id', 'text', (c) => c.notNull().references('learning_course.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('activated_at', 'text')
    .addColumn('ended_at', 'text')
    .addUniqueConstraint('learning_enrollment_course_user', ['course_id', 'user_id'])
    .execute();
  await db.schema.createIndex('learning_enrollment_user').on('learning_enrollment').columns(['user_id', 'status']).execute();

  if (isPostgres(db)) {
    await sql`create index learning_course_search on learning_course using gin (to_tsvector('simple', search_text))`.execute(db);
  } else {
    await sql`create virtual table learning_course_fts using fts5(course_id unindexed, search_text, tokenize = 'unicode61 remove_diacritics 2')`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) await sql`drop table if exists learning_course_fts`.execute(db);
  for (const table of ['learning_enrollment', 'learning_lesson', 'learning_course_tag', 'learning_course_teacher', 'learning_course']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
