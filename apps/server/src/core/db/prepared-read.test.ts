import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect, openTestDatabase } from '../../../test/support/databases.js';
import type { Database } from './database.js';
import { compileReadOn, compileWriteOn, compileWriteReturningOn } from './prepared-read.js';
import { withTransaction } from './transaction.js';

describeEachDialect('compiled reads and writes', (dialect) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: Database;

  beforeAll(async () => {
    opened = await openTestDatabase(dialect);
    database = opened.database;
    await database.db.schema
      .createTable('t_item')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
  });
  afterAll(() => opened.close());

  it('a write compiled once inserts rows given as a flat list of values (arity), and an `in` read takes one argument per value', async () => {
    const insertTwo = compileWriteOn(database.db, (db, ...values: unknown[]) => db.insertInto('t_item').values([0, 1].map((r) => ({ id: values[r * 2], label: values[r * 2 + 1], version: 1 }))), 4);
    const byIds = compileReadOn(database.db, (db, ...ids: string[]) => db.selectFrom('t_item').select(['id', 'label']).where('id', 'in', ids).orderBy('id'), 3);
    expect(await insertTwo(database.db, 'a', 'first', 'b', 'second')).toBe(2);
    expect(await insertTwo(database.db, 'c', 'third', 'd', 'fourth')).toBe(2);
    expect(await byIds(database.db, 'a', 'c', 'x')).toEqual([
      { id: 'a', label: 'first' },
      { id: 'c', label: 'third' },
    ]);
  });

  it('a compiled update reports the rows it changed and runs in the transaction it is given', async () => {
    const bump = compileWriteOn(database.db, (db, id: string, version: number) =>
      db
        .updateTable('t_item')
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('id', '=', id)
        .where('version', '=', version),
    );
    expect(await bump(database.db, 'a', 1)).toBe(1);
    expect(await bump(database.db, 'a', 1)).toBe(0);
    await expect(
      withTransaction(database.db, async (tx) => {
        expect(await bump(tx, 'b', 1)).toBe(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await database.db.selectFrom('t_item').select(['id', 'version']).where('id', 'in', ['a', 'b']).orderBy('id').execute()).toEqual([
      { id: 'a', version: 2 },
      { id: 'b', version: 1 },
    ]);
  });

  it('a compiled write with RETURNING resolves to the rows it returned', async () => {
    const rename = compileWriteReturningOn(database.db, (db, id: string, label: string) => db.updateTable('t_item').set({ label }).where('id', '=', id).returning(['id', 'label']));
    expect(await rename(database.db, 'c', 'renamed')).toEqual([{ id: 'c', label: 'renamed' }]);
    expect(await rename(database.db, 'missing', 'renamed')).toEqual([]);
  });

  it('refuses a read as a write, a write as a read, and an argument that is not a bound value', () => {
    expect(() => compileWriteOn(database.db, (db, id: string) => db.selectFrom('t_item').selectAll().where('id', '=', id))).toThrow(/only INSERT, UPDATE and DELETE/);
    expect(() => compileReadOn(database.db, (db, id: string) => db.deleteFrom('t_item').where('id', '=', id))).toThrow(/only SELECT/);
    expect(() => compileWriteReturningOn(database.db, (db, id: string) => db.selectFrom('t_item').selectAll().where('id', '=', id))).toThrow(/only INSERT, UPDATE and DELETE/);
    expect(() => compileWriteOn(database.db, (db, _unused: string) => db.deleteFrom('t_item'))).toThrow(/argument 1/);
  });
});
