import type { Kysely } from 'kysely';

/**
 * Drops the index of answers by question. Only a regrade looked answers up by question, and it now
 * goes through the quiz's attempts and each one's primary key. Every submission paid for the index:
 * its five answers went to five leaf pages far apart (one per question), about half of the pages a
 * hand-in writes to the WAL.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('learning_answer_question').ifExists().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('learning_answer_question').on('learning_answer').columns(['question_id']).execute();
}
