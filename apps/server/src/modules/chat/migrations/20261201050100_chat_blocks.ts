import type { Kysely } from 'kysely';

/** Blocks: a user who blocked another gets no direct messages from them. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('chat_block')
    .addColumn('blocker_id', 'text', (c) => c.notNull())
    .addColumn('blocked_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('chat_block_pk', ['blocker_id', 'blocked_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('chat_block').ifExists().execute();
}
