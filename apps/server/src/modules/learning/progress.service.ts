import { randomBytes } from 'node:crypto';
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Tx } from '../../core/db/database.js';
import { compileReadOn } from '../../core/db/prepared-read.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { Principal } from '../../core/http/access.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { Activity } from './activity.js';
import { canSeeLessons, type CourseService, type LearningContext } from './courses.service.js';
import { conflict, forbidden, LearningErrors, lessonNotFound } from './learning.errors.js';
import { lockEnrollments } from './learning.repo.js';
import { LearningEvents, type CourseCompletedPayload, type LessonCompletedPayload } from './learning.events.js';
import type { LearningTables, LessonRow } from './learning.tables.js';
import type { CertificateView, CourseProgressView } from './progress.schemas.js';

/** A readable verification code: 16 characters of Crockford base32 in groups of four. */
function certificateCode(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const bytes = randomBytes(16);
  const chars = [...bytes].map((b) => alphabet[b % 32]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/** The lessons that count toward completion: the course's required published lessons (`l`). Both the progress views and the completion check count these. */
const countedLesson = (eb: ExpressionBuilder<{ l: LessonRow }, 'l'>, courseId: string) => eb.and([eb('l.course_id', '=', courseId), eb('l.status', '=', 'published'), eb('l.required', '=', 1)]);

/**
 * Progress: lesson completion, course completion (every required published lesson completed and
 * every required published quiz passed) with a certificate, and the numbers both `GET /me/progress`
 * and the teacher's roster show — one function computes them for both.
 */
export function createProgressService(ctx: LearningContext & { courses: CourseService; activity?: Activity }) {
  const { database, clock, events, users, courses, activity } = ctx;
  const db = database.db as unknown as Kysely<LearningTables>;
  const iso = () => clock.now().toISOString();
  const h = (handle: unknown) => handle as Kysely<LearningTables>;

  // compute's reads (the progress views), compiled once; the completion check reads completionState instead.
  const lessonsOf = compileReadOn(db, (q, courseId: string, userId: string) =>
    h(q)
      .selectFrom('learning_lesson as l')
      .leftJoin('learning_lesson_completion as c', (join) => join.onRef('c.lesson_id', '=', 'l.id').on('c.user_id', '=', userId))
      .select(['l.id', 'l.minutes', 'c.lesson_id as completed'])
      .where((eb) => countedLesson(eb, courseId)),
  );
  // One row per graded attempt (oldest first), or one without an attempt for an untried quiz.
  const quizzesOf = compileReadOn(db, (q, courseId: string, userId: string) =>
    h(q)
      .selectFrom('learning_quiz as z')
      .leftJoin('learning_attempt as a', (join) => join.onRef('a.quiz_id', '=', 'z.id').on('a.user_id', '=', userId).on('a.status', '=', 'graded'))
      .select(['z.id', 'z.title', 'z.required', 'a.number', 'a.score', 'a.max_score', 'a.passed'])
      .where('z.course_id', '=', courseId)
      .where('z.status', '=', 'published')
      .orderBy('z.id')
      .orderBy('a.number'),
  );
  const studiedAndCertificate = compileReadOn(db, (q, courseId: string, userId: string) =>
    h(q).selectNoFrom((eb) => [
      eb.selectFrom('learning_study_session').select((s) => s.fn.sum<number | string | null>('seconds').as('total')).where('user_id', '=', userId).where('course_id', '=', courseId).where('ended_at', 'is not', null).as('studied'),
      eb.selectFrom('learning_certificate').select('code').where('course_id', '=', courseId).where('user_id', '=', userId).as('code'),
      eb.selectFrom('learning_certificate').select('issued_at').where('course_id', '=', courseId).where('user_id', '=', userId).as('issued_at'),
    ]),
  );

  /**
   * What the completion rule needs, counted in one read that loads no rows: the course's required
   * published lessons and quizzes, those the student has yet to complete or pass, and their certificate.
   */
  const completionState = compileReadOn(db, (q, courseId: string, userId: string) =>
    h(q).selectNoFrom((eb) => {
      const lessons = () => eb.selectFrom('learning_lesson as l').select((l) => l.fn.countAll<number | string>().as('n')).where((l) => countedLesson(l, courseId));
      const quizzes = () => eb.selectFrom('learning_quiz as z').select((z) => z.fn.countAll<number | string>().as('n')).where('z.course_id', '=', courseId).where('z.status', '=', 'published').where('z.required', '=', 1);
      return [
        lessons().as('lessons_required'),
        lessons()
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('learning_lesson_completion as c').select('c.lesson_id').whereRef('c.lesson_id', '=', 'l.id').where('c.user_id', '=', userId))))
          .as('lessons_left'),
        quizzes().as('quizzes_required'),
        quizzes()
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('learning_attempt as a').select('a.id').whereRef('a.quiz_id', '=', 'z.id').where('a.user_id', '=', userId).where('a.status', '=', 'graded').where('a.passed', '=', 1))),
          )
          .as('quizzes_left'),
        eb.selectFrom('learning_certificate').select('code').where('course_id', '=', courseId).where('user_id', '=', userId).as('code'),
      ];
    }),
  );

  /** The lessons and quizzes part of a student's progress: two reads whatever the course's size. Which quizzes count (required, published) must stay as completionState counts them. */
  async function tally(handle: Kysely<LearningTables> | Tx, courseId: string, userId: string) {
    const lessonRows = await lessonsOf(handle, courseId, userId);
    const done = lessonRows.filter((l) => l.completed !== null);
    const quizRows = await quizzesOf(handle, courseId, userId);
    const quizzes = new Map<string, { title: string; required: number; attempts: Array<{ score: number; maxScore: number; passed: boolean }> }>();
    for (const row of quizRows) {
      let quiz = quizzes.get(row.id);
      if (!quiz) quizzes.set(row.id, (quiz = { title: row.title, required: row.required, attempts: [] }));
      if (row.number !== null) quiz.attempts.push({ score: Number(row.score), maxScore: Number(row.max_score), passed: Boolean(row.passed) });
    }
    const quizProgress = [...quizzes].map(([quizId, z]) => {
      const scores = z.attempts.map((a) => a.score);
      return {
        quizId,
        title: z.title,
        required: Boolean(z.required),
        attempts: z.attempts.length,
        bestScore: scores.length ? Math.max(...scores) : null,
        lastScore: scores.length ? scores.at(-1)! : null,
        maxScore: z.attempts.length ? z.attempts.at(-1)!.maxScore : null,
        passed: z.attempts.some((a) => a.passed),
      };
    });
    const required = quizProgress.filter((z) => z.required);
    return {
      lessonsCompleted: done.length,
      lessonsRequired: lessonRows.length,
      quizzesPassed: required.filter((z) => z.passed).length,
      quizzesRequired: required.length,
      minutesOfLessonsCompleted: done.reduce((sum, l) => sum + l.minutes, 0),
      quizzes: quizProgress,
    };
  }

  /** The completion rule: every required published lesson completed and every required published quiz passed (a course that requires nothing is never completed). */
  const meetsRule = (s: { lessons_required: unknown; lessons_left: unknown; quizzes_required: unknown; quizzes_left: unknown }) =>
    Number(s.lessons_required) + Number(s.quizzes_required) > 0 && Number(s.lessons_left) === 0 && Number(s.quizzes_left) === 0;

  /** Three reads whatever the course's size: lessons with completions, quizzes with graded attempts, time studied and certificate. */
  async function compute(handle: Kysely<LearningTables> | Tx, courseId: string, courseTitle: string, userId: string): Promise<CourseProgressView> {
    const t = await tally(handle, courseId, userId);
    // A select without `from` returns one row.
    const rest = (await studiedAndCertificate(handle, courseId, userId))[0]!;
    const total = t.lessonsRequired + t.quizzesRequired;
    return {
      courseId,
      courseTitle,
      lessonsCompleted: t.lessonsCompleted,
      lessonsRequired: t.lessonsRequired,
      quizzesPassed: t.quizzesPassed,
      quizzesRequired: t.quizzesRequired,
      percent: total ? Math.floor(((t.lessonsCompleted + t.quizzesPassed) * 100) / total) : 0,
      minutesOfLessonsCompleted: t.minutesOfLessonsCompleted,
      minutesStudied: Math.floor(Number(rest.studied ?? 0) / 60),
      completed: rest.code !== null,
      certificateCode: rest.code,
      completedAt: rest.issued_at,
      quizzes: t.quizzes,
    };
  }

  /**
   * Issues the certificate (once) when the student has met the completion rule. Call inside the
   * writing transaction. One read unless a certificate is due.
   */
  async function checkCompletion(tx: Tx, courseId: string, userId: string, actorId: string | null): Promise<void> {
    // A select without `from` returns one row.
    const state = (await completionState(tx, courseId, userId))[0]!;
    if (state.code !== null || !meetsRule(state)) return;
    const course = await h(tx).selectFrom('learning_course').select(['title']).where('id', '=', courseId).executeTakeFirst();
    if (!course) return;
    const code = certificateCode();
    await h(tx).insertInto('learning_certificate').values({ id: newId('cert'), code, course_id: courseId, user_id: userId, course_title: course.title, issued_at: iso() }).execute();
    await events.append<CourseCompletedPayload>(tx, {
      type: LearningEvents.courseCompleted,
      scopes: [`user:${userId}`, `course:${courseId}`],
      payload: { courseId, userId, courseTitle: course.title, certificateCode: code },
      actorId,
    });
  }

  return {
    compute: (courseId: string, courseTitle: string, userId: string) => compute(db, courseId, courseTitle, userId),
    checkCompletion,

    async completeLesson(principal: Principal, lessonId: string): Promise<CourseProgressView> {
      const lesson = await db.selectFrom('learning_lesson').selectAll().where('id', '=', lessonId).executeTakeFirst();
      if (!lesson) throw lessonNotFound();
      const access = await courses.accessOf(principal, lesson.course_id);
      if (!access || !canSeeLessons(access) || (!access.staff && lesson.status !== 'published')) throw lessonNotFound();
      if (access.enrollment?.status !== 'active') throw forbidden('Only the course’s active students complete lessons.');
      if (lesson.status !== 'published') throw lessonNotFound();
      const prerequisites = JSON.parse(lesson.prerequisites) as string[];
      await withTransaction(database.db, async (tx) => {
        await lockEnrollments(tx, database.dialect.name, lesson.course_id, [principal.userId]);
        const done = new Set((await h(tx).selectFrom('learning_lesson_completion').select('lesson_id').where('course_id', '=', lesson.course_id).where('user_id', '=', principal.userId).execute()).map((r) => r.lesson_id));
        if (done.has(lesson.id)) return;
        const missing = prerequisites.filter((id) => !done.has(id));
        if (missing.length) throw conflict(LearningErrors.LEARNING_PREREQUISITES, `Complete these lessons first: ${missing.join(', ')}.`);
        await h(tx).insertInto('learning_lesson_completion').values({ lesson_id: lesson.id, user_id: principal.userId, course_id: lesson.course_id, completed_at: iso() }).execute();
        await events.append<LessonCompletedPayload>(tx, {
          type: LearningEvents.lessonCompleted,
          scopes: [`user:${principal.userId}`, `course:${lesson.course_id}`],
          payload: { lessonId: lesson.id, courseId: lesson.course_id, userId: principal.userId },
          actorId: principal.userId,
        });
        await activity?.lessonCompleted(tx, principal.userId);
        await checkCompletion(tx, lesson.course_id, principal.userId, principal.userId);
      });
      return compute(db, lesson.course_id, access.course.title, principal.userId);
    },

    /** The caller's progress in every course they are an active student of. */
    async mine(principal: Principal): Promise<{ items: CourseProgressView[] }> {
      const rows = await db
        .selectFrom('learning_enrollment')
        .innerJoin('learning_course', 'learning_course.id', 'learning_enrollment.course_id')
        .select(['learning_course.id as id', 'learning_course.title as title'])
        .where('learning_enrollment.user_id', '=', principal.userId)
        .where('learning_enrollment.status', '=', 'active')
        .orderBy('learning_enrollment.activated_at')
        .limit(200)
        .execute();
      const items: CourseProgressView[] = [];
      for (const r of rows) items.push(await compute(db, r.id, r.title, principal.userId));
      return { items };
    },

    /** Public verification of a certificate by its code. */
    async certificate(code: string): Promise<CertificateView> {
      const row = await db.selectFrom('learning_certificate').selectAll().where('code', '=', code.toUpperCase()).executeTakeFirst();
      if (!row) throw new AppError(404, LearningErrors.LEARNING_CERTIFICATE_NOT_FOUND, 'No certificate has this code.');
      const name = (await users.lookup([row.user_id])).get(row.user_id)?.displayName ?? null;
      return { code: row.code, courseId: row.course_id, courseTitle: row.course_title, userId: row.user_id, displayName: name, issuedAt: row.issued_at };
    },
  };
}

export type ProgressService = ReturnType<typeof createProgressService>;
