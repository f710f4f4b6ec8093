import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/databases.js';
import { startServerProcess } from '../support/process.js';

const WRITES = 200;

/**
 * How many disk syncs each acknowledged write costs on SQLite, per `SQLITE_SYNCHRONOUS` setting,
 * counted by strace on the real server process. The figures go to docs/security.md.
 */
describe('disk syncs per acknowledged write (strace)', () => {
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    it(`SQLITE_SYNCHRONOUS=${synchronous}`, async () => {
      const testDb = await createTestDatabase('sqlite');
      const trace = path.join(os.tmpdir(), `lyceum-strace-${process.pid}-${synchronous}.txt`);
      const server = await startServerProcess({ DATABASE_URL: testDb.url, SQLITE_SYNCHRONOUS: synchronous });
      // Attached to every thread of the running server (libuv's pool threads do the file I/O).
      const threads = readdirSync(`/proc/${server.child.pid}/task`).flatMap((tid) => ['-p', tid]);
      const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync', '-o', trace, ...threads], { stdio: 'ignore' });
      const detached = new Promise((resolve) => strace.once('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const count = () => readFileSync(trace, 'utf8').split('\n').filter((line) => /\b(fsync|fdatasync)\(/.test(line)).length;
      try {
        for (let i = 0; i < WRITES; i++) {
          const res = await fetch(`${server.baseUrl}/api/v1/widgets`, {
            method: 'POST',
            headers: { authorization: 'Bearer test:usr_fsync', 'content-type': 'application/json' },
            body: JSON.stringify({ name: `w${i}`, size: 1 }),
          });
          expect(res.status).toBe(201);
        }
        strace.kill('SIGINT');
        await detached;
        const perWrite = count() / WRITES;
        process.stdout.write(`SQLITE_SYNCHRONOUS=${synchronous}: ${perWrite.toFixed(2)} fsync/fdatasync per acknowledged write\n`);
        if (synchronous === 'FULL') expect(perWrite).toBeGreaterThanOrEqual(1);
        else expect(perWrite).toBeLessThan(1);
      } finally {
        strace.kill('SIGINT');
        server.child.kill('SIGTERM');
        await server.exited;
        rmSync(trace, { force: true });
        await testDb.drop();
      }
    });
  }
});
