import type { Kysely } from 'kysely';

/**
 * Quizzes, their questions (answer keys in their own column, never sent before submission),
 * attempts (one open per student and quiz: a unique `open_key` set only while open) and answers
 * (one per attempt and question: saving again replaces it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('learning_quiz')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('course_id', 'text', (c) => c.notNull().references('learning_course.id').onDelete('cascade'))
    .addColumn('lesson_id', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('time_limit_seconds', 'integer')
    .addColumn('max_attempts', 'integer')
    .addColumn('passing_score', 'integer', (c) => c.notNull())
    .addColumn('opens_at', 'text')
    .addColumn('closes_at', 'text')
    .addColumn('shuffle_questions', 'integer', (c) => c.notNull())
    .addColumn('shuffle_options', 'integer', (c) => c.notNull())
    .addColumn('feedback', 'text', (c) => c.notNull())
    .addColumn('draw_count', 'integer')
    .addColumn('required', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('learning_quiz_course').on('learning_quiz').columns(['course_id', 'id']).execute();

  await db.schema
    .createTable('learning_question')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('quiz_id', 'text', (c) => c.notNull().references('learning_quiz.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('points', 'integer', (c) => c.notNull())
    .addColumn('explanation', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('answer_key', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('learning_question_quiz').on('learning_question').columns(['quiz_id', 'position']).execute();

  await db.schema
    .createTable('learning_attempt')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('quiz_id', 'text', (c) => c.notNull().references('learning_quiz.id').onDelete('cascade'))
    .addColumn('course_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('open_key', 'text', (c) => c.unique())
    .addColumn('layout', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('deadline_at', 'text')
    .addColumn('submitted_at', 'text')
    .addColumn('score', 'double precision')
    .addColumn('max_score', 'double precision', (c) => c.notNull())
    .addColumn('passed', 'integer')
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('learning_attempt_quiz_user').on('learning_attempt').columns(['quiz_id', 'user_id', 'number']).execute();

  await db.schema
    .createTable('learning_answer')
    .addColumn('attempt_id', 'text', (c) => c.notNull().references('learning_attempt.id').onDelete('cascade'))
    .addColumn('question_id', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('client_timestamp', 'text')
    .addColumn('points', 'double precision')
    .addColumn('comment', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('learning_answer_pk', ['attempt_id', 'question_id'])
    .execute();
  await db.schema.createIndex('learning_answer_question').on('learning_answer').columns(['question_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['learning_answer', 'learning_attempt', 'learning_question', 'learning_quiz']) await db.schema.dropTable(table).ifExists().execute();
}
