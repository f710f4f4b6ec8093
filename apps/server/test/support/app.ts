import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp, type BuildOptions, type LyceumApp } from '../../src/app.js';
import type { Clock } from '../../src/core/clock.js';
import { loadConfig, type Config } from '../../src/core/config/config.js';
import { createTestDatabase, migratedTemplate, type DialectName } from './databases.js';

export interface TestApp extends LyceumApp {
  config: Config;
  /** Closes the app and drops its database and data folder. */
  destroy(): Promise<void>;
}

/** What a test app runs with: quiet, fast polling, no practical rate limit; `env` overrides. */
export function testConfig(databaseUrl: string, dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    cwd: dataDir,
    env: {
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_MAX: '100000',
      // Several suites share this machine's PostgreSQL: a slow moment must not read as an outage.
      DATABASE_TIMEOUT_MS: '30000',
      JOB_POLL_MS: '20',
      EVENT_POLL_MS: '50',
      ...env,
    },
  });
}

export interface TestAppOptions {
  dialect?: DialectName;
  /** Extra environment, as an operator would set it (e.g. { RATE_LIMIT_MAX: '5' }). */
  env?: Record<string, string>;
  clock?: Clock;
  extraModules?: BuildOptions['extraModules'];
  /** Start event dispatch and job workers (off by default: most tests drive services directly). */
  background?: boolean;
  /** pino options for tests that read the app's log (default: silent). */
  logger?: BuildOptions['logger'];
}

/**
 * A whole Lyceum app on a database of its own, ready for `app.inject`. The database starts as a copy
 * of the run's migrated template when there is one; the app's migrator then finds it up to date
 * and applies only the migrations of extra modules.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dialect = options.dialect ?? 'sqlite';
  const testDb = await createTestDatabase(dialect, { copyOf: migratedTemplate(dialect) });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-data-'));
  const config = testConfig(testDb.url, dataDir, options.env);
  const lyceum = await buildApp({ config, clock: options.clock, extraModules: options.extraModules, logger: options.logger ?? false });
  if (options.background) await lyceum.startBackground();
  return {
    ...lyceum,
    config,
    async destroy() {
      await lyceum.close();
      await testDb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
