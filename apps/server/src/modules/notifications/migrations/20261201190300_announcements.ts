import type { Kysely } from 'kysely';

/** Course announcements, fanned out to the course's members' inboxes by jobs. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications_announcement')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('course_id', 'text', (c) => c.notNull())
    .addColumn('author_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notifications_announcement_course').on('notifications_announcement').columns(['course_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notifications_announcement').ifExists().execute();
}
