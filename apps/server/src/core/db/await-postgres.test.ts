import { describe, expect, it } from 'vitest';
import { freePort } from '../../../test/support/redis-server.js';
import { TEST_DATABASE_URL } from '../../../test/support/databases.js';
import { StartupError } from '../startup-error.js';
import { awaitPostgres } from './await-postgres.js';
import { createDatabase } from './database.js';

async function startWith(url: string, timeoutMs: number) {
  const database = createDatabase({ kind: 'postgres', url, poolMax: 2, timeoutMs: 2000 });
  const started = Date.now();
  try {
    const error = await awaitPostgres(database, url, timeoutMs).then(
      () => undefined,
      (err: unknown) => err,
    );
    return { error: error as Error | undefined, waitedMs: Date.now() - started };
  } finally {
    await database.close();
  }
}

describe('a PostgreSQL that cannot be used at start', () => {
  it('is asked again while it does not answer, then stops the start with one line naming DATABASE_URL', async () => {
    const url = `postgres://lyceum:hunter2@127.0.0.1:${await freePort()}/lyceum`;
    const { error, waitedMs } = await startWith(url, 1500);
    expect(error).toBeInstanceOf(StartupError);
    expect(error!.message).toMatch(/^DATABASE_URL: PostgreSQL at postgres:\/\/lyceum:\*\*\*@127\.0\.0\.1:\d+\/lyceum did not answer within 1\.5 s \(.*ECONNREFUSED.*\)\. Check that PostgreSQL is running/);
    expect(error!.message).not.toContain('\n');
    expect(error!.message).not.toContain('hunter2');
    // It waited for the server, not just tried once.
    expect(waitedMs).toBeGreaterThanOrEqual(1000);
  });

  it('waits for a host that is not known yet (a container not started), as for one that refuses', async () => {
    const { error, waitedMs } = await startWith('postgres://lyceum@lyceum-db.invalid:5432/lyceum', 1500);
    expect(error).toBeInstanceOf(StartupError);
    expect(error!.message).toMatch(/^DATABASE_URL: PostgreSQL at postgres:\/\/lyceum@lyceum-db\.invalid:5432\/lyceum did not answer within 1\.5 s \(.*(ENOTFOUND|EAI_AGAIN).*\)/);
    expect(waitedMs).toBeGreaterThanOrEqual(1000);
  });

  it.runIf(TEST_DATABASE_URL)('is not asked again when it answers with an error (a database that does not exist)', async () => {
    const url = new URL(TEST_DATABASE_URL!);
    url.pathname = '/lyceum_no_such_database';
    const { error } = await startWith(url.toString(), 30_000);
    expect(error).toBeInstanceOf(StartupError);
    expect(error!.message).toMatch(/^DATABASE_URL: PostgreSQL at postgres:\/\/.*\/lyceum_no_such_database refused the connection \(database "lyceum_no_such_database" does not exist\)\. Check the user, password and database name/);
  });
});
