import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Timeouts only catch hangs: building an app with every module's migrations takes seconds, and
// minutes on a loaded two-CPU machine; no test asserts speed (benchmarks do).
const common = { pool: 'forks' as const, testTimeout: 120_000, hookTimeout: 180_000 };

/**
 * `npm test` runs the main suite. With LYCEUM_HARDENING=1 (set by .ci/run once it has installed
 * strace, sqlmap and slowhttptest) the long hardening suites run after it, one file at a time, so
 * that their timings are not disturbed by the rest; `npm run test:hardening` runs them alone.
 */
export default defineConfig({
  test: {
    // Vitest's default is one worker per CPU but one; on a two-CPU machine that is a single worker,
    // and the suite left one CPU idle (tests wait on PostgreSQL, disk syncs and child servers).
    // Two workers there: main suite 1,076 → 710 s. The hardening project still runs one file at a time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { test: { ...common, name: 'main', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], globalSetup: ['./test/support/migrated-templates.ts'], sequence: { groupOrder: 0 } } },
      ...(process.env.LYCEUM_HARDENING === '1'
        ? [{ test: { ...common, name: 'hardening', include: ['test/hardening-long/**/*.hardening.ts'], fileParallelism: false, testTimeout: 900_000, hookTimeout: 120_000, sequence: { groupOrder: 1 } } }]
        : []),
    ],
  },
});
