import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordStatements } from '../../../../test/support/statements.js';
import { createDatabase, type Database } from '../database.js';
import { afterCommit, withTransaction } from '../transaction.js';

/**
 * Group commit on the one SQLite connection. "Committed" is checked through a second, independent
 * connection to the same file: it sees only what SQLite has committed, never the open batch.
 */
describe('SQLite group commit', () => {
  let dir: string;
  let database: Database;
  let observer: SqliteDatabase.Database;
  let file: string;
  const statements = recordStatements();

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-group-commit-'));
  });
  afterAll(() => {
    statements.restore();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    file = path.join(dir, `${Date.now()}-${Math.random()}.db`);
    database = createDatabase({ kind: 'sqlite', file, synchronous: 'FULL', busyTimeoutMs: 1000 });
    await sql`create table t (id text primary key, n integer not null check (n >= 0))`.execute(database.db);
    observer = new SqliteDatabase(file, { readonly: true });
  });
  afterEach(async () => {
    observer.close();
    await database.close();
  });

  const committed = (id: string) => observer.prepare('select count(*) as c from t where id = ?').get(id) as { c: number };
  const insert = (id: string, n = 1) =>
    withTransaction(database.db, async (tx) => {
      await tx.insertInto('t').values({ id, n }).execute();
      return id;
    });
  const commits = () => statements.seen.filter((s) => s === 'commit').length;

  it('concurrent transactions share commits, and each settles only once its row is committed', async () => {
    statements.seen.length = 0;
    const seenAtSettle: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => insert(`r${i}`).then((id) => seenAtSettle.push(committed(id).c))),
    );
    expect(seenAtSettle).toEqual(Array(50).fill(1));
    expect(commits()).toBeGreaterThanOrEqual(1);
    expect(commits()).toBeLessThan(10);
    // One outer transaction per commit; each of the 50 is a savepoint inside one.
    expect(statements.seen.filter((s) => s === 'begin').length).toBe(commits());
    expect(statements.seen.filter((s) => s === 'savepoint lyceum_batch_member').length).toBe(50);
  });

  it('requests arriving in separate turns of the event loop share a commit, lone writes included', async () => {
    statements.seen.length = 0;
    // As HTTP requests do: each starts in its own I/O callback, after the previous one's statements ran.
    const arrivals = Array.from({ length: 20 }, (_, i) =>
      new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          const write = i % 2 ? insert(`turn${i}`) : database.db.insertInto('t').values({ id: `turn${i}`, n: 1 }).execute();
          write.then(() => {
            expect(committed(`turn${i}`).c, `turn${i} settled before its commit`).toBe(1);
            resolve();
          }, reject);
        }),
      ),
    );
    await Promise.all(arrivals);
    expect(commits()).toBeLessThan(5);
  });

  it('with a second connection of this process on the file, writes commit before the event loop turns', async () => {
    // The other connection's busy wait blocks the thread: a batch left for the next turn would never commit.
    const other = createDatabase({ kind: 'sqlite', file, synchronous: 'FULL', busyTimeoutMs: 1000 });
    try {
      const arrivals = Array.from({ length: 10 }, (_, i) =>
        new Promise((resolve, reject) =>
          setImmediate(() => (i % 2 ? insert(`here${i}`) : other.db.insertInto('t').values({ id: `there${i}`, n: 1 }).execute()).then(resolve, reject)),
        ),
      );
      await Promise.all(arrivals);
    } finally {
      await other.close();
    }
    expect((observer.prepare('select count(*) as c from t').get() as { c: number }).c).toBe(10);
  });

  it("keeps temporary storage, the savepoints' journals among it, in memory: past 16 pages a journal in a file costs a system call per page", async () => {
    const { rows } = await sql<{ temp_store: number }>`pragma temp_store`.execute(database.db);
    expect(rows[0]!.temp_store).toBe(2); // MEMORY
    // SQLITE_TEMP_STORE=FILE trades that for less memory under large sorts.
    const onFile = createDatabase({ kind: 'sqlite', file: `${file}-other`, synchronous: 'FULL', busyTimeoutMs: 1000, tempStore: 'FILE' });
    try {
      const other = await sql<{ temp_store: number }>`pragma temp_store`.execute(onFile.db);
      expect(other.rows[0]!.temp_store).toBe(1);
    } finally {
      await onFile.close();
    }
  });

  it('without contention a transaction is begin, its savepoint and statements, commit', async () => {
    statements.seen.length = 0;
    await insert('alone');
    expect(statements.seen).toEqual(['begin', 'savepoint lyceum_batch_member', 'insert into "t" ("id", "n") values (?, ?)', 'release lyceum_batch_member', 'commit']);
  });

  it('a transaction that fails rolls back alone; the others in its batch commit', async () => {
    const failing = withTransaction(database.db, async (tx) => {
      await tx.insertInto('t').values({ id: 'bad-1', n: 1 }).execute();
      await tx.insertInto('t').values({ id: 'bad-2', n: -1 }).execute(); // check constraint
    });
    const results = await Promise.allSettled([insert('a'), insert('b'), failing, insert('c'), insert('d')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    for (const id of ['a', 'b', 'c', 'd']) expect(committed(id).c).toBe(1);
    expect(committed('bad-1').c).toBe(0);
  });

  it('a read that runs inside a batch returns only what is committed by the time it settles', async () => {
    const reads: Array<Promise<void>> = [];
    const writes = Array.from({ length: 20 }, (_, i) => {
      reads.push(
        database.db
          .selectFrom('t')
          .select('id')
          .execute()
          .then((rows) => {
            for (const { id } of rows) expect(committed(id as string).c, `${id} was read before its commit`).toBe(1);
          }),
      );
      return insert(`w${i}`);
    });
    await Promise.all([...writes, ...reads]);
  });

  describe('prepared reads', () => {
    const byId = () => database.prepareRead((db, id: string) => db.selectFrom('t').selectAll().where('id', '=', id));
    const SELECT = 'select * from "t" where "id" = ?';

    it('the prepared reads of one event-loop turn share one read transaction', async () => {
      const read = byId();
      statements.seen.length = 0;
      const rows = await Promise.all(['a', 'b', 'c'].map((id) => read(id)));
      expect(rows).toEqual([[], [], []]);
      expect(statements.seen).toEqual(['begin', SELECT, SELECT, SELECT, 'commit']);
    });

    it('a read transaction ends after 64 reads, as any batch', async () => {
      const read = byId();
      statements.seen.length = 0;
      await Promise.all(Array.from({ length: 100 }, (_, i) => read(`n${i}`)));
      expect(statements.seen.filter((s) => s === 'begin').length).toBe(2);
    });

    it('a write that comes while reads share a transaction commits them first: they never wait for its disk sync', async () => {
      const read = byId();
      statements.seen.length = 0;
      const settled: string[] = [];
      const reading = read('late').then((rows) => settled.push(`read ${rows.length}`));
      const writing = insert('late').then(() => settled.push('write'));
      await Promise.all([reading, writing]);
      expect(settled).toEqual(['read 0', 'write']);
      expect(statements.seen).toEqual([
        'begin',
        SELECT,
        'commit',
        'begin',
        'savepoint lyceum_batch_member',
        'insert into "t" ("id", "n") values (?, ?)',
        'release lyceum_batch_member',
        'commit',
      ]);
    });

    it('a read that comes while a write awaits its commit is not run at once: it settles after that commit, with the row', async () => {
      const read = byId();
      statements.seen.length = 0;
      const writing = insert('pending');
      // Still this turn: the transaction has ended and its batch waits for the next turn to commit.
      while (!statements.seen.includes('release lyceum_batch_member')) await Promise.resolve();
      expect(statements.seen).not.toContain('commit');
      const rows = await read('pending');
      expect(committed('pending').c).toBe(1);
      expect(rows).toEqual([{ id: 'pending', n: 1 }]);
      await writing;
    });

    it('with a second connection of this process on the file, each read is a transaction of its own', async () => {
      const other = createDatabase({ kind: 'sqlite', file, synchronous: 'FULL', busyTimeoutMs: 1000 });
      try {
        const read = byId();
        statements.seen.length = 0;
        await Promise.all([read('a'), read('b')]);
        expect(statements.seen).toEqual([SELECT, SELECT]);
      } finally {
        await other.close();
      }
    });
  });

  it('after-commit hooks run once the shared commit is done', async () => {
    const hooked: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        withTransaction(database.db, async (tx) => {
          await tx.insertInto('t').values({ id: `h${i}`, n: 1 }).execute();
          afterCommit(tx, () => hooked.push(committed(`h${i}`).c));
        }),
      ),
    );
    expect(hooked).toEqual(Array(10).fill(1));
  });

  it('a connection borrowed for several statements gets its turn again after waiting for a commit', async () => {
    const borrowed = database.db.connection().execute(async (conn) => {
      await conn.insertInto('t').values({ id: 'conn-1', n: 1 }).execute();
      await conn.insertInto('t').values({ id: 'conn-2', n: 1 }).execute();
      return conn.selectFrom('t').select('id').where('id', 'like', 'conn-%').execute();
    });
    const [rows] = await Promise.all([borrowed, ...Array.from({ length: 10 }, (_, i) => insert(`x${i}`))]);
    expect(rows.map((r) => r.id).sort()).toEqual(['conn-1', 'conn-2']);
    expect(committed('conn-2').c).toBe(1);
  });

  it('when SQLite drops the whole transaction (as on an I/O error), every member of the batch fails and nothing is half-stored', async () => {
    await insert('taken');
    const ids = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const results = await Promise.allSettled(
      ids.map((id, i) =>
        withTransaction(database.db, async (tx) => {
          await tx.insertInto('t').values({ id, n: 1 }).execute();
          // ON CONFLICT ROLLBACK makes SQLite end the whole transaction, the batch with it.
          if (i === 6) await sql`insert or rollback into t (id, n) values ('taken', 1)`.execute(tx);
        }),
      ),
    );
    const outcome = ids.map((id, i) => ({ ok: results[i]!.status === 'fulfilled', stored: committed(id).c === 1 }));
    expect(outcome.map((o) => o.ok)).toEqual(outcome.map((o) => o.stored));
    expect(outcome[6]).toEqual({ ok: false, stored: false });
    // Members that had joined the batch before the failure lost their work, and were told so.
    expect(outcome.filter((o) => !o.ok).length).toBeGreaterThan(1);
    await insert('after');
    expect(committed('after').c).toBe(1);
  });
});
