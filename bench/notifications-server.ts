// Lyceum for the notifications benchmark: one course with 10,000 actively enrolled students (at
// BENCH_SCALE=1) who all hold access tokens, its teacher, and SMTP delivery to the bench's own
// smtp-server (SMTP_URL). The course goes through the learning service, the enrollments are bulk rows.
import { withTransaction } from '../apps/server/src/core/db/transaction.js';
import { newId } from '../apps/server/src/core/ids.js';
import { accessTokens, benchApp, bulkUsers, insertMany, portOf, principalOf, settleSeed } from './fixtures.js';
import { answer, scaled } from './support.js';

const lyceum = await benchApp({ postgres: process.env.BENCH_POSTGRES === '1', env: { SMTP_URL: process.env.BENCH_SMTP_URL ?? '' } });
const { db } = lyceum.core.database;
const started = performance.now();

const studentCount = scaled(10_000, 200);
const [teacherId] = await bulkUsers(lyceum, 1, 'teacher');
const studentIds = await bulkUsers(lyceum, studentCount, 'student');
const course = await lyceum.product.learning.courses.create(principalOf(teacherId!, 'teacher'), { title: 'Announcements for everyone', status: 'published', visibility: 'public' });
const now = new Date().toISOString();
await insertMany(
  lyceum,
  'learning_enrollment',
  studentIds.map((userId) => ({ id: newId('enr'), course_id: course.id, user_id: userId, status: 'active', source: 'staff', version: 1, created_at: now, updated_at: now, activated_at: now, ended_at: null })),
);
const [teacherToken] = await accessTokens(lyceum, [teacherId!], 'teacher');
const studentTokens = await accessTokens(lyceum, studentIds, 'student');

const inboxCount = async () =>
  Number((await db.selectFrom('notifications_notification').select((eb) => eb.fn.countAll().as('n')).where('category', '=', 'announcement').executeTakeFirstOrThrow()).n);

answer({
  /** This process's CPU time so far (µs), so that the bench can tell the work from the machine's load. */
  async cpuUsage() {
    return { ...process.cpuUsage() };
  },
  /** Waits until `expected` announcement entries are stored; answers when (wall-clock ms). */
  async awaitInbox(args) {
    const { expected, timeoutMs } = args as { expected: number; timeoutMs: number };
    const deadline = Date.now() + timeoutMs;
    let stored = await inboxCount();
    while (stored < expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stored = await inboxCount();
    }
    return { stored, at: Date.now() };
  },
  /** Queues `count` emails through core's mailer (one job each), in one transaction per 500. */
  async queueMail(args) {
    const { count, domain } = args as { count: number; domain: string };
    for (let i = 0; i < count; i += 500) {
      await withTransaction(db, async (tx) => {
        for (let k = i; k < Math.min(count, i + 500); k++) {
          await lyceum.core.mailer.send(tx, { to: `student${k}@${domain}`, subject: `Bench message ${k}`, text: 'Hello from the notifications benchmark.', category: 'bench' });
        }
      });
    }
    return { at: Date.now() };
  },
});

await settleSeed(lyceum);
process.send?.({ port: portOf(lyceum), seedSeconds: (performance.now() - started) / 1000, courseId: course.id, teacherToken, studentTokens, jobConcurrency: lyceum.core.config.jobs.concurrency });
