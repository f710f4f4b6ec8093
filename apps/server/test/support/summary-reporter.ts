import type { Reporter, TestModule } from 'vitest/node';

const SLOWEST_SHOWN = 12;

/**
 * Ends the run with one plain line, "N passed, N failed, N skipped", that CI tools can read,
 * preceded by the slowest test files (import + tests + hooks), so that the next person trimming
 * the CI time starts from the CI log instead of a run of their own.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    process.stdout.write(`${slowestFiles(testModules)}\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}

function slowestFiles(testModules: ReadonlyArray<TestModule>): string {
  const timed = testModules.map((mod) => {
    const { collectDuration, setupDuration, duration } = mod.diagnostic();
    return { name: `${mod.project.name}: ${mod.relativeModuleId}`, seconds: (collectDuration + setupDuration + duration) / 1000 };
  });
  if (timed.length === 0) return '';
  const total = timed.reduce((sum, t) => sum + t.seconds, 0);
  const lines = timed
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, SLOWEST_SHOWN)
    .map((t) => `  ${t.seconds.toFixed(1).padStart(7)} s  ${t.name}`);
  return `\nslowest test files (of ${timed.length}, ${total.toFixed(0)} s in all, summed over workers):\n${lines.join('\n')}\n`;
}
