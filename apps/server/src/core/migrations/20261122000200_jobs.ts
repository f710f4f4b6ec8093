import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('core_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('run_at', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text')
    .addColumn('locked_by', 'text')
    .addColumn('last_error', 'text')
    .addColumn('unique_key', 'text', (c) => c.unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // Claims look for "queued and due" (status, run_at) or "running with a lapsed lease" (status, lease_until).
  await db.schema.createIndex('core_jobs_due').on('core_jobs').columns(['status', 'run_at']).execute();
  await db.schema.createIndex('core_jobs_lease').on('core_jobs').columns(['status', 'lease_until']).execute();

  // The last tick each schedule enqueued. Tick jobs are pruned after a week, so their unique keys
  // alone cannot stop a monthly schedule from running its latest tick again after a restart.
  await db.schema
    .createTable('core_job_schedules')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('last_tick', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('core_job_schedules').execute();
  await db.schema.dropTable('core_jobs').execute();
}
