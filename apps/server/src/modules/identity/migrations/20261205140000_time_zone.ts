import type { Kysely } from 'kysely';

/** A user's own IANA time zone (null: not set, read as UTC), for streak days, quiet hours and digests. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('identity_user').addColumn('time_zone', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('identity_user').dropColumn('time_zone').execute();
}
