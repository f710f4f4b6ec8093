import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withStatementCache } from './sqlite-statements.js';

describe('SQLite statement cache', () => {
  let handle: SqliteDatabase.Database;
  beforeEach(() => {
    handle = new SqliteDatabase(':memory:');
    handle.exec(`create table t (id text primary key, n integer, data blob, "__proto__" text, "1" text, "with ""quotes""" text)`);
    handle.prepare('insert into t values (?, ?, ?, ?, ?, ?)').run('a', 1, Buffer.from([1, 2]), 'p', 'one', 'q');
    handle.prepare('insert into t values (?, ?, ?, ?, ?, ?)').run('b', null, null, null, null, null);
  });
  afterEach(() => handle.close());

  /** What better-sqlite3 itself returns for the same query: the rows the cache must reproduce. */
  const plain = (sql: string, parameters: unknown[] = []) => handle.prepare(sql).all(parameters);

  it.each([
    ['every type and null', 'select id, n, data from t order by id'],
    ['names a literal must quote', 'select id, "1", "with ""quotes""" as "a""b", n as "x y" from t order by id'],
    ['two columns of one name: the last wins', 'select id as v, n as v from t order by id'],
    ['expressions and no rows', "select count(*) as c, 'x' || id as label from t where id = 'none'"],
  ])('rows are the objects better-sqlite3 gives: %s', (_what, sql) => {
    const statements = withStatementCache(handle);
    const rows = statements.prepare(sql).all([]);
    expect(rows).toStrictEqual(plain(sql));
    for (const row of rows) expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect([...statements.prepare(sql).iterate([])]).toStrictEqual(plain(sql));
  });

  it('a column named __proto__ does what it does with better-sqlite3 (sets the prototype to null, ignores a string)', () => {
    const sql = `select "__proto__", id from t order by id`;
    const rows = withStatementCache(handle).prepare(sql).all([]);
    expect(rows.map(Object.getPrototypeOf)).toEqual(plain(sql).map(Object.getPrototypeOf));
    expect(rows).toStrictEqual(plain(sql));
  });

  it('runs writes and returns their changes', () => {
    const statements = withStatementCache(handle);
    expect(statements.prepare('update t set n = ? where id = ?').run([5, 'b']).changes).toBe(1);
    expect(statements.prepare('select n from t where id = ?').all(['b'])).toEqual([{ n: 5 }]);
  });

  it('keeps a statement used since the last sweep and evicts the oldest unused one', () => {
    const statements = withStatementCache(handle, 2);
    const a = statements.prepare('select 1 as a');
    const b = statements.prepare('select 2 as b');
    expect(statements.prepare('select 1 as a')).toBe(a);
    statements.prepare('select 3 as c'); // full: b goes, a (used) gets a second chance
    expect(statements.prepare('select 1 as a')).toBe(a);
    expect(statements.prepare('select 2 as b')).not.toBe(b);
  });

  it('gives a fresh statement while the cached one is being iterated', () => {
    const statements = withStatementCache(handle);
    const sql = 'select id from t order by id';
    const iterating = statements.prepare(sql).iterate([]);
    expect(iterating.next().value).toEqual({ id: 'a' });
    expect(statements.prepare(sql).all([])).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect([...iterating]).toEqual([{ id: 'b' }]);
  });
});
