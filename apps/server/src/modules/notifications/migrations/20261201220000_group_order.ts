import type { Kysely } from 'kysely';

/**
 * The log seq of the newest event an inbox entry shows. Ingestion jobs run in parallel, so events
 * can arrive out of order: a group keeps the text of the newest one, not of the last one to arrive.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications_notification').addColumn('source_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications_notification').dropColumn('source_seq').execute();
}
