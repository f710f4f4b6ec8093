import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Every message that left (or, without SMTP, landed in the development outbox), by the job that
  // sent it: a retried job finds its record and does not send twice.
  await db.schema
    .createTable('core_mail')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('job_id', 'text', (c) => c.notNull().unique())
    .addColumn('transport', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text')
    .addColumn('html_body', 'text')
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('core_mail_created_at').on('core_mail').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('core_mail').execute();
}
