import type { Kysely } from 'kysely';

/**
 * The preferences' time zone becomes optional: null follows the user's profile time zone (then UTC).
 * Stored 'UTC' was the default written with any other change, so it becomes null too: from now on
 * those users' quiet hours and digests follow their profile. Rename, add, copy, drop: portable to
 * SQLite, which cannot drop a NOT NULL constraint in place.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications_preference').renameColumn('time_zone', 'time_zone_old').execute();
  await db.schema.alterTable('notifications_preference').addColumn('time_zone', 'text').execute();
  await db.updateTable('notifications_preference').set((eb) => ({ time_zone: eb.ref('time_zone_old') })).where('time_zone_old', '!=', 'UTC').execute();
  await db.schema.alterTable('notifications_preference').dropColumn('time_zone_old').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications_preference').renameColumn('time_zone', 'time_zone_new').execute();
  await db.schema.alterTable('notifications_preference').addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('UTC')).execute();
  await db.updateTable('notifications_preference').set((eb) => ({ time_zone: eb.ref('time_zone_new') })).where('time_zone_new', 'is not', null).execute();
  await db.schema.alterTable('notifications_preference').dropColumn('time_zone_new').execute();
}
