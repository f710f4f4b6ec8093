import type { Kysely } from 'kysely';

// The control route's own table, with the one row its baseline request finds.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('injectable_item')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .execute();
  await db.insertInto('injectable_item').values({ id: 'itm_control', name: 'algebra' }).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('injectable_item').execute();
}
