import type { Kysely } from 'kysely';

/**
 * Study sessions (start, heartbeat, stop; bounded by the heartbeat gap), learning goals, the days a
 * student was active (for streaks) and achievements (one per student and achievement).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('learning_study_session')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('course_id', 'text')
    .addColumn('lesson_id', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .addColumn('end_reason', 'text')
    .addColumn('seconds', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('learning_study_session_user').on('learning_study_session').columns(['user_id', 'id']).execute();
  await db.schema.createIndex('learning_study_session_open').on('learning_study_session').columns(['ended_at', 'last_seen_at']).execute();

  await db.schema
    .createTable('learning_goal')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('course_id', 'text')
    .addColumn('target', 'integer')
    .addColumn('due_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('learning_goal_user').on('learning_goal').columns(['user_id', 'id']).execute();

  await db.schema
    .createTable('learning_activity_day')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('first_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('learning_activity_day_pk', ['user_id', 'day'])
    .execute();

  await db.schema
    .createTable('learning_achievement')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('achievement', 'text', (c) => c.notNull())
    .addColumn('awarded_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('learning_achievement_pk', ['user_id', 'achievement'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('learning_achievement').ifExists().execute();
  await db.schema.dropTable('learning_activity_day').ifExists().execute();
  await db.schema.dropTable('learning_goal').ifExists().execute();
  await db.schema.dropTable('learning_study_session').ifExists().execute();
}
