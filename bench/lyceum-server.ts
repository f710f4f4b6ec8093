// Lyceum as a user would run it (embedded SQLite on disk, logging off for the load), plus the
// test-only widgets module so that one route reads one row by primary key. benchApp stops it on
// SIGTERM: its data directory goes, and a CPU profile (BENCH_CPU_PROF) gets written.
import { createWidgetsModule } from '../apps/server/test/support/widgets/widgets.module.js';
import { benchApp, portOf } from './fixtures.js';

const lyceum = await benchApp({ extraModules: [createWidgetsModule] });
const created = await lyceum.app.inject({ method: 'POST', url: '/api/v1/widgets', headers: { authorization: 'Bearer test:usr_bench' }, payload: { name: 'bench', size: 1 } });
process.send?.({ port: portOf(lyceum), widgetId: created.json().id });
