import type { Kysely } from 'kysely';

/**
 * Invitations to courses: a teacher invites a user (by id, or by the email of an account); the
 * invitee accepts (an active enrollment) or declines. `open_key` is set while the invitation is
 * pending, so a unique index allows one open invitation per course and invitee.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('learning_invitation')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('course_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('email', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('open_key', 'text', (c) => c.unique())
    .addColumn('invited_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('learning_invitation_course').on('learning_invitation').columns(['course_id', 'id']).execute();
  await db.schema.createIndex('learning_invitation_user').on('learning_invitation').columns(['user_id', 'status', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('learning_invitation').ifExists().execute();
}
