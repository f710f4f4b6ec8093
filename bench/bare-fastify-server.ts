// For scale beside Lyceum's widget read: bare Fastify (no plugins, no hooks) reading one row by
// primary key from a SQLite file in WAL mode the plain way, one prepared better-sqlite3 statement per
// request (each its own read transaction), and nothing else.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-bench-bare-'));
const db = new Database(path.join(dir, 'bare.db'));
db.pragma('journal_mode = WAL');
db.exec('create table widget (id text primary key, name text not null, size integer not null)');
db.prepare('insert into widget values (?, ?, ?)').run('wid_bench', 'bench', 1);
const read = db.prepare('select id, name, size from widget where id = ?');

const app = Fastify();
app.get<{ Params: { id: string } }>('/widgets/:id', (request, reply) => {
  const row = read.get(request.params.id);
  return row ?? reply.code(404).send({ status: 404 });
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0, widgetId: 'wid_bench' });
process.once('SIGTERM', () => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
