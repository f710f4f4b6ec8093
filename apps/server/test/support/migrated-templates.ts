import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildApp } from '../../src/app.js';
import { testConfig } from './app.js';
import { availableDialects, createTestDatabase, sealAsTemplate, type DialectName, type TestDatabase } from './databases.js';

/**
 * Vitest global setup. Every test app used to run all modules' migrations on an empty database,
 * some 150 times a run; now the product's migrations run here once per dialect (so each run still
 * migrates from empty, and a broken migration stops the run) and every test app starts from a
 * copy. Names are new each run, and the teardown drops them.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const made: TestDatabase[] = [];
  const dropAll = async () => void (await Promise.all(made.map((testDb) => testDb.drop())));
  try {
    const entries = await Promise.all(availableDialects.map(async (dialect) => [dialect, await migrateTemplate(dialect, made)] as const));
    project.provide('migratedTemplates', Object.fromEntries(entries) as Record<DialectName, string>);
  } catch (err) {
    await dropAll();
    throw err;
  }
  return dropAll;
}

/** Builds the product (no extra modules) on a new database, which runs its migrations, and seals it. */
async function migrateTemplate(dialect: DialectName, made: TestDatabase[]): Promise<string> {
  const testDb = await createTestDatabase(dialect, { prefix: 'lyceum_template' });
  made.push(testDb);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-template-'));
  try {
    const lyceum = await buildApp({ config: testConfig(testDb.url, dataDir), logger: false });
    await lyceum.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  return sealAsTemplate(testDb);
}
