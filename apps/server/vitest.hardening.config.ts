import { defineConfig } from 'vitest/config';

/** `npm run test:hardening`: only the long suites (crash cycles, disk syncs, slow clients, injection). */
export default defineConfig({
  test: {
    include: ['test/hardening-long/**/*.hardening.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
