import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withStatementCache } from './sqlite-statements.js';

describe('SQLite statement cache', () => {
  let handle: SqliteDatabase.Database;
  beforeEach(() => {
    handle = new SqliteDatabase(':memory:');
    handle.exec("create table t (id text primary key); insert into t values ('a'), ('b')");
  });
  afterEach(() => handle.close());

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
    const iterating = statements.prepare(sql).iterate();
    expect(iterating.next().value).toEqual({ id: 'a' });
    expect(statements.prepare(sql).all()).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect([...iterating]).toEqual([{ id: 'b' }]);
  });
});
