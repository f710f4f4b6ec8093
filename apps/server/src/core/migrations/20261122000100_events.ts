import type { Kysely } from 'kysely';
import { serialPrimaryKey } from '../db/portable.js';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('core_events')
    .addColumn('seq', ...serialPrimaryKey(db))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('core_events_created_at').on('core_events').column('created_at').execute();
  // One row per (scope, event): "everything user:X may see since seq N" is an index range scan.
  await db.schema
    .createTable('core_event_scopes')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull().references('core_events.seq').onDelete('cascade'))
    .addPrimaryKeyConstraint('core_event_scopes_pk', ['scope', 'seq'])
    .execute();
  await db.schema.createIndex('core_event_scopes_seq').on('core_event_scopes').column('seq').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('core_event_scopes').execute();
  await db.schema.dropTable('core_events').execute();
}
