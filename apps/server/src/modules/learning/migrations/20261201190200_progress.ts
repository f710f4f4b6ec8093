import type { Kysely } from 'kysely';

/** Lesson completions (one per student and lesson) and course certificates (one per student and course, with a public code). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('learning_lesson_completion')
    .addColumn('lesson_id', 'text', (c) => c.notNull().references('learning_lesson.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('course_id', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('learning_lesson_completion_pk', ['lesson_id', 'user_id'])
    .execute();
  await db.schema.createIndex('learning_lesson_completion_user').on('learning_lesson_completion').columns(['user_id', 'course_id']).execute();

  await db.schema
    .createTable('learning_certificate')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('course_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('course_title', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('learning_certificate_course_user', ['course_id', 'user_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('learning_certificate').ifExists().execute();
  await db.schema.dropTable('learning_lesson_completion').ifExists().execute();
}
