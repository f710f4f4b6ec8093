/**
 * The one polling helper for tests that wait on background work (event dispatch, job workers,
 * sockets, other processes), instead of a copy in each test file. Never a fixed sleep.
 */

/** Polls `condition` until it holds; throws `<what> not met within <within> ms` after the deadline. */
export async function until(condition: () => boolean | Promise<boolean>, { within = 15_000, what = 'condition', every = 10 }: { within?: number; what?: string; every?: number } = {}): Promise<void> {
  const deadline = Date.now() + within;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${within} ms`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}
