import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDialect, openTestDatabase } from '../../../test/support/databases.js';
import { createDatabase, type Database } from './database.js';
import { isDbError } from './errors.js';
import { coreMigrations, createMigrator } from './migrator.js';
import { afterCommit, withTransaction } from './transaction.js';

describeEachDialect('database layer', (dialect) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: Database;

  beforeAll(async () => {
    opened = await openTestDatabase(dialect);
    database = opened.database;
    await database.db.schema.createTable('t_parent').addColumn('id', 'text', (c) => c.primaryKey()).execute();
    await database.db.schema
      .createTable('t_child')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('parent_id', 'text', (c) => c.notNull().references('t_parent.id'))
      .addColumn('n', 'integer', (c) => c.check(sql`n >= 0`))
      .execute();
  });
  afterAll(() => opened.close());

  it('maps a unique violation to a typed error', async () => {
    await database.db.insertInto('t_parent').values({ id: 'p1' }).execute();
    const err = await database.db.insertInto('t_parent').values({ id: 'p1' }).execute().catch((e: unknown) => e);
    expect(isDbError(err, 'unique')).toBe(true);
  });

  it('maps foreign-key, not-null and check violations', async () => {
    const fk = await database.db.insertInto('t_child').values({ id: 'c1', parent_id: 'nope', n: 1 }).execute().catch((e: unknown) => e);
    expect(isDbError(fk, 'foreign_key')).toBe(true);
    const notNull = await database.db.insertInto('t_child').values({ id: 'c2', parent_id: null, n: 1 }).execute().catch((e: unknown) => e);
    expect(isDbError(notNull, 'not_null')).toBe(true);
    const check = await database.db.insertInto('t_child').values({ id: 'c3', parent_id: 'p1', n: -1 }).execute().catch((e: unknown) => e);
    expect(isDbError(check, 'check')).toBe(true);
  });

  it('maps errors raised inside a transaction, and rolls it back', async () => {
    const err = await withTransaction(database.db, async (tx) => {
      await tx.insertInto('t_parent').values({ id: 'p2' }).execute();
      await tx.insertInto('t_parent').values({ id: 'p1' }).execute();
    }).catch((e: unknown) => e);
    expect(isDbError(err, 'unique')).toBe(true);
    expect(await database.db.selectFrom('t_parent').select('id').where('id', '=', 'p2').executeTakeFirst()).toBeUndefined();
  });

  it('runs after-commit hooks only after the outermost commit, never after a rollback', async () => {
    const calls: string[] = [];
    await withTransaction(database.db, async (tx) => {
      afterCommit(tx, () => calls.push('outer'));
      await withTransaction(tx, async (inner) => {
        afterCommit(inner, () => calls.push('inner'));
      });
      expect(calls).toEqual([]);
    });
    expect(calls).toEqual(['outer', 'inner']);
    await withTransaction(database.db, async (tx) => {
      afterCommit(tx, () => calls.push('never'));
      throw new Error('rollback');
    }).catch(() => undefined);
    expect(calls).toEqual(['outer', 'inner']);
  });

  it('runs a prepared read with new arguments each time, constants of the query kept', async () => {
    await database.db.insertInto('t_child').values([{ id: 'r1', parent_id: 'p1', n: 5 }, { id: 'r2', parent_id: 'p1', n: 9 }, { id: 'r3', parent_id: 'p1', n: 7 }]).execute();
    const atLeast = database.prepareRead((db, parent: string, min: number) =>
      db.selectFrom('t_child').select(['id', 'n']).where('parent_id', '=', parent).where('n', '>=', min).where('id', '!=', 'r3').orderBy('id'),
    );
    expect(await atLeast('p1', 6)).toEqual([{ id: 'r2', n: 9 }]);
    expect(await atLeast('p1', 0)).toEqual([{ id: 'r1', n: 5 }, { id: 'r2', n: 9 }]);
    expect(await atLeast('nobody', 0)).toEqual([]);
    expect(() => database.prepareRead((db, _unused: string) => db.selectFrom('t_child').selectAll())).toThrow(/argument 1/);
  });

  it('never lets a prepared read see the writes of a transaction that rolls back', async () => {
    const byId = database.prepareRead((db, id: string) => db.selectFrom('t_parent').selectAll().where('id', '=', id));
    let pending!: Promise<unknown[]>;
    await withTransaction(database.db, async (tx) => {
      await tx.insertInto('t_parent').values({ id: 'uncommitted' }).execute();
      // On SQLite the one connection is inside this transaction: the read must wait, not run in it.
      pending = byId('uncommitted');
      throw new Error('rollback');
    }).catch(() => undefined);
    expect(await pending).toEqual([]);
  });

  if (dialect === 'postgres') {
    it('maps a serialization failure', async () => {
      const other = createDatabase(opened.testDb.config);
      try {
        await database.db.insertInto('t_child').values({ id: 's1', parent_id: 'p1', n: 1 }).execute();
        const serializable = (db: Database['db']) => db.transaction().setIsolationLevel('serializable');
        let release!: () => void;
        const bothRead = new Promise<void>((resolve) => (release = resolve));
        let reads = 0;
        const worker = (db: Database['db'], id: string) =>
          serializable(db).execute(async (tx) => {
            await tx.selectFrom('t_child').select((eb) => eb.fn.sum('n').as('s')).executeTakeFirst();
            if (++reads === 2) release();
            await bothRead;
            await tx.insertInto('t_child').values({ id, parent_id: 'p1', n: 1 }).execute();
          });
        const results = await Promise.allSettled([worker(database.db, 's2'), worker(other.db, 's3')]);
        const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
        expect(failure && isDbError(failure.reason, 'serialization')).toBe(true);
      } finally {
        await other.close();
      }
    });
  }

  if (dialect === 'sqlite') {
    it('gives the connection the configured page cache (SQLite itself would keep 2 MiB)', async () => {
      const file = (opened.testDb.config as { file: string }).file;
      const other = createDatabase({ kind: 'sqlite', file, synchronous: 'NORMAL', busyTimeoutMs: 50, cacheMb: 48 });
      try {
        const { rows } = await sql<{ cache_size: number }>`pragma cache_size`.execute(other.db);
        expect(rows[0]!.cache_size).toBe(-48 * 1024);
      } finally {
        await other.close();
      }
    });

    it('maps a lock held by another process to "busy" after the busy timeout', async () => {
      const file = (opened.testDb.config as { file: string }).file;
      const other = createDatabase({ kind: 'sqlite', file, synchronous: 'NORMAL', busyTimeoutMs: 50 });
      try {
        await sql`begin immediate`.execute(database.db);
        const err = await other.db.insertInto('t_parent').values({ id: 'p9' }).execute().catch((e: unknown) => e);
        expect(isDbError(err, 'busy')).toBe(true);
      } finally {
        await sql`rollback`.execute(database.db);
        await other.close();
      }
    });
  }
});

describeEachDialect('migrator', (dialect) => {
  it('merges module folders in timestamp order, reports status, and reverts the latest', async () => {
    const testDb = await createTestDatabase(dialect);
    const database = createDatabase(testDb.config);
    try {
      const widgets = { owner: 'widgets', dir: new URL('../../../test/support/widgets/migrations/', import.meta.url) };
      const migrator = createMigrator(database, [widgets, coreMigrations]);
      const names = (await migrator.status()).map((m) => m.name);
      expect(names).toEqual([...names].sort());
      expect(names.at(-1)).toBe('20261122100000_widgets_widgets');
      expect(names[0]).toMatch(/^\d{14}_core_/);

      const applied = await migrator.up();
      expect(applied).toEqual(names);
      expect(await migrator.pending()).toEqual([]);
      expect(await migrator.up()).toEqual([]);

      // Concurrent runs (several nodes starting at once) are safe: one applies, the others find nothing.
      expect(await migrator.down()).toEqual(['20261122100000_widgets_widgets']);
      const racers = await Promise.all([migrator.up(), createMigrator(database, [widgets, coreMigrations]).up()]);
      expect(racers.flat()).toEqual(['20261122100000_widgets_widgets']);

      // A module that arrives later with an older timestamp than one already applied still runs.
      const later = { owner: 'later', dir: new URL('../../../test/support/injectable-migrations/', import.meta.url) };
      await migrator.down();
      const withLater = createMigrator(database, [coreMigrations, later]);
      expect(await withLater.up()).toEqual(['20261205100000_later_injectable']);
      expect(await createMigrator(database, [widgets, coreMigrations, later]).up()).toEqual(['20261122100000_widgets_widgets']);
    } finally {
      await database.close();
      await testDb.drop();
    }
  });
});
