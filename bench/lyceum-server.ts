// Lyceum as a user would run it (embedded SQLite on disk, default logging off for the load),
// plus the test-only widgets module so that one route reads one row by primary key.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../apps/server/src/app.js';
import { loadConfig } from '../apps/server/src/core/config/config.js';
import { createWidgetsModule } from '../apps/server/test/support/widgets/widgets.module.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-bench-'));
const config = loadConfig({
  cwd: dataDir,
  env: { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '1000000', DATABASE_URL: process.env.BENCH_DATABASE_URL ?? '' },
});
const lyceum = await buildApp({ config, extraModules: [createWidgetsModule], logger: false });
await lyceum.listen();
const created = await lyceum.app.inject({ method: 'POST', url: '/api/v1/widgets', headers: { authorization: 'Bearer test:usr_bench' }, payload: { name: 'bench', size: 1 } });
const address = lyceum.app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0, widgetId: created.json().id });
