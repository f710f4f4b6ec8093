// Lyceum with a school's worth of learning data: 10,000 students, 200 published courses (lessons and
// a quiz each), five enrollments per student and 100,000 submitted attempts (at BENCH_SCALE=1).
// Structure (courses, lessons, quizzes, one real attempt per quiz) goes through the learning
// services; the mass rows (accounts, enrollments, attempts) are bulk-inserted copies of real ones.
import { newId } from '../apps/server/src/core/ids.js';
import { accessTokens, benchApp, bulkUsers, insertMany, portOf, principalOf, seededRandom, settleSeed } from './fixtures.js';
import { answer, scaled } from './support.js';

const synchronous = process.env.BENCH_SQLITE_SYNCHRONOUS;
const lyceum = await benchApp({ postgres: process.env.BENCH_POSTGRES === '1', env: synchronous ? { SQLITE_SYNCHRONOUS: synchronous } : {} });
const { learning } = lyceum.product;
const { db } = lyceum.core.database;
const rnd = seededRandom(4);
const started = performance.now();

const SUBJECTS = ['algebra', 'geometry', 'biology', 'chemistry', 'physics', 'history', 'poetry', 'economics', 'statistics', 'programming', 'music', 'drawing', 'astronomy', 'philosophy', 'spanish', 'german', 'writing', 'ecology', 'robotics', 'design'];
const QUALIFIERS = ['introduction', 'foundations', 'advanced', 'applied', 'practical', 'modern', 'visual', 'everyday', 'hands-on', 'deep'];
const LEVELS = ['beginner', 'intermediate', 'advanced', 'all'] as const;

const studentCount = scaled(10_000, 50);
const courseCount = scaled(200, 5);
const attemptCount = scaled(100_000, 100);
const teacherIds = await bulkUsers(lyceum, 20, 'teacher');
const studentIds = await bulkUsers(lyceum, studentCount, 'student');

// Questions of the auto-scored kinds, and the right response to each.
const QUESTIONS = [
  { input: { type: 'single' as const, prompt: 'Which is right?', options: [{ id: 'a', text: 'This' }, { id: 'b', text: 'That' }, { id: 'c', text: 'Neither' }], correctOptionIds: ['b'] }, right: { optionId: 'b' } },
  { input: { type: 'multiple' as const, prompt: 'Which are right?', points: 2, options: [{ id: 'a', text: 'One' }, { id: 'b', text: 'Two' }, { id: 'c', text: 'Three' }], correctOptionIds: ['a', 'c'] }, right: { optionIds: ['a', 'c'] } },
  { input: { type: 'true_false' as const, prompt: 'Practice helps.', correctBoolean: true }, right: { value: true } },
  { input: { type: 'numeric' as const, prompt: 'What is 7 × 6?', correctNumber: 42, tolerance: 0 }, right: { value: 42 } },
  { input: { type: 'short_text' as const, prompt: 'Name the planet we live on.', acceptedAnswers: ['Earth'], match: 'case_insensitive' as const }, right: { text: 'earth' } },
];
/** question id → the right response, for the load generator. */
const answerKey: Record<string, unknown> = {};

const courses: Array<{ id: string; quizId: string }> = [];
for (let c = 0; c < courseCount; c++) {
  const teacher = principalOf(teacherIds[c % teacherIds.length]!, 'teacher');
  const subject = SUBJECTS[c % SUBJECTS.length]!;
  const title = `${rnd.pick(QUALIFIERS)} ${subject} ${c + 1}`;
  const course = await learning.courses.create(teacher, {
    title: title[0]!.toUpperCase() + title.slice(1),
    summary: `A course on ${subject} and ${rnd.pick(SUBJECTS)}, with short lessons and a quiz.`,
    description: `# ${title}\n\nWork through the lessons in order, then take the quiz about ${subject}.`,
    level: LEVELS[c % LEVELS.length],
    tags: [subject, rnd.pick(SUBJECTS)].filter((t, i, all) => all.indexOf(t) === i),
    status: 'published',
    visibility: 'public',
  });
  for (let l = 0; l < 5; l++) {
    await learning.courses.createLesson(teacher, course.id, { title: `Lesson ${l + 1}`, content: `## ${subject} ${l + 1}\n\nNotes and examples.`, minutes: 10 + l * 5, status: 'published' });
  }
  const quiz = await learning.quizzes.createQuiz(teacher, course.id, { title: `${title}: check`, feedback: 'correctness', passingScore: 60, required: true });
  for (const q of QUESTIONS) answerKey[(await learning.quizzes.createQuestion(teacher, quiz.id, q.input)).id] = q.right;
  await learning.quizzes.updateQuiz(teacher, quiz.id, undefined, { status: 'published' });
  courses.push({ id: course.id, quizId: quiz.id });
}

// Five courses per student, spread evenly.
const now = new Date().toISOString();
const step = Math.max(1, Math.floor(courseCount / 5));
const enrolledIn = studentIds.map((_, i) => Array.from({ length: 5 }, (_, k) => courses[(i + k * step) % courseCount]!));
await insertMany(
  lyceum,
  'learning_enrollment',
  studentIds.flatMap((userId, i) =>
    enrolledIn[i]!.map((course) => ({ id: newId('enr'), course_id: course.id, user_id: userId, status: 'active', source: 'self', version: 1, created_at: now, updated_at: now, activated_at: now, ended_at: null })),
  ),
);
await db.updateTable('learning_course').set((eb) => ({ enrolled_count: eb.selectFrom('learning_enrollment as e').select((e) => e.fn.countAll().as('n')).whereRef('e.course_id', '=', 'learning_course.id').where('e.status', '=', 'active') })).execute();

// One real attempt per quiz (started, answered, submitted and scored by the service) is the
// template; the other attempts are its copies, for other students and attempt numbers.
const templates = new Map<string, { attempt: Record<string, unknown>; answers: Array<Record<string, unknown>> }>();
for (const [i, course] of courses.entries()) {
  const student = principalOf(studentIds.find((_, s) => enrolledIn[s]!.includes(course)) ?? studentIds[i]!, 'student');
  const attempt = await learning.quizzes.start(student, course.quizId);
  await learning.quizzes.saveAnswers(student, attempt.id, { answers: attempt.questions.map((q) => ({ questionId: q.id, response: answerKey[q.id] as never })) });
  await learning.quizzes.submit(student, attempt.id);
  templates.set(course.quizId, {
    attempt: await db.selectFrom('learning_attempt').selectAll().where('id', '=', attempt.id).executeTakeFirstOrThrow(),
    answers: await db.selectFrom('learning_answer').selectAll().where('attempt_id', '=', attempt.id).execute(),
  });
}
const perStudent = Math.max(1, Math.round(attemptCount / studentCount));
let copies = 0;
for (let s = 0; s < studentCount && copies < attemptCount - courseCount; s += 200) {
  const attempts: Array<Record<string, unknown>> = [];
  const answers: Array<Record<string, unknown>> = [];
  for (let i = s; i < Math.min(studentCount, s + 200); i++) {
    for (let n = 0; n < perStudent && copies < attemptCount - courseCount; n++) {
      const course = enrolledIn[i]![n % 5]!;
      const template = templates.get(course.quizId)!;
      const id = newId('att');
      // Numbers above any the template student holds, so that (quiz, user, number) stays unique.
      attempts.push({ ...template.attempt, id, user_id: studentIds[i], number: 2 + Math.floor(n / 5) });
      for (const a of template.answers) answers.push({ ...a, attempt_id: id });
      copies++;
    }
  }
  await insertMany(lyceum, 'learning_attempt', attempts);
  await insertMany(lyceum, 'learning_answer', answers);
}

await settleSeed(lyceum);
// Students who take part in the load: their tokens and a quiz of one of their courses.
const loadStudents = Array.from({ length: Math.min(studentCount, 1000) }, (_, i) => Math.floor((i * studentCount) / Math.min(studentCount, 1000)));
const tokens = await accessTokens(lyceum, loadStudents.map((i) => studentIds[i]!), 'student');

/**
 * For the hand-in row: starts up to `count` attempts through the learning service, one per (student,
 * quiz) pair without an open one, many at once (their commits are grouped as a crowd's would be).
 * Answers with the students' tokens, the attempts, and the five right answers of each quiz as a
 * submission body.
 */
answer({
  async openAttempts({ count }) {
    const wanted = Number(count);
    const students = studentIds.slice(0, Math.min(studentCount, Math.ceil(wanted / 5)));
    const pairs = students.flatMap((userId, s) => enrolledIn[s]!.map((course) => ({ s, userId, quizId: course.quizId }))).slice(0, wanted);
    const attempts: Array<[number, string, string]> = [];
    const bodies: Record<string, string> = {};
    let taken = 0;
    const worker = async () => {
      while (taken < pairs.length) {
        const { s, userId, quizId } = pairs[taken++]!;
        try {
          const attempt = await learning.quizzes.start(principalOf(userId, 'student'), quizId);
          attempts.push([s, attempt.id, quizId]);
          bodies[quizId] ??= JSON.stringify({ answers: attempt.questions.map((q) => ({ questionId: q.id, response: answerKey[q.id] })) });
        } catch {
          // An attempt of the load's own students may still be open: that pair is left out.
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    return { tokens: await accessTokens(lyceum, students, 'student'), attempts, bodies };
  },
});

process.send?.({
  port: portOf(lyceum),
  seedSeconds: (performance.now() - started) / 1000,
  counts: { students: studentCount, courses: courseCount, lessons: courseCount * 5, attempts: copies + courseCount, enrollments: studentCount * 5 },
  words: SUBJECTS,
  // Each of a student's quizzes in turn, from one that differs from student to student.
  students: loadStudents.map((i, n) => ({ token: tokens[n]!, quizIds: Array.from({ length: 5 }, (_, k) => enrolledIn[i]![(n + k) % 5]!.quizId) })),
  answerKey,
});
