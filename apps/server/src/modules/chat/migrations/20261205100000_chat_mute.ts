import type { Kysely } from 'kysely';

/**
 * Muting: a member's conversation stays live and counted as unread, but sends them no notification
 * until `muted_until` (RFC 3339 UTC text; `9999-12-31T23:59:59.999Z` means indefinitely, null not muted).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('chat_member').addColumn('muted_until', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('chat_member').dropColumn('muted_until').execute();
}
