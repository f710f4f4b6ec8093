import { randomInt } from 'node:crypto';
import type { Tx } from '../../core/db/database.js';
import { isDbError } from '../../core/db/errors.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventInput } from '../../core/events/types.js';
import type { Principal } from '../../core/http/access.js';
import { versionMismatch } from '../../core/http/etag.js';
import { toPage, type Page } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import type { JobQueue } from '../../core/jobs/types.js';
import type { Activity } from './activity.js';
import { canSeeLessons, isCourseStaff, type CourseService, type CourseSight, type LearningContext } from './courses.service.js';
import { attemptNotFound, conflict, forbidden, invalid, LearningErrors, questionNotFound, quizNotFound } from './learning.errors.js';
import {
  LearningEvents,
  type AttemptGradedPayload,
  type AttemptStartedPayload,
  type AttemptSubmittedPayload,
  type QuestionChangedPayload,
  type QuizPayload,
} from './learning.events.js';
import type { AnswerRow, AttemptRow, QuestionRow, QuizRow } from './learning.tables.js';
import type {
  AnswersPatch,
  AttemptQuery,
  AttemptSummaryView,
  AttemptView,
  GradeBody,
  QuestionCreate,
  QuestionPatch,
  QuestionType,
  QuestionView,
  QuizCreate,
  QuizPatch,
  QuizView,
  ResponseValue,
} from './quizzes.schemas.js';
import { lockEnrollments } from './learning.repo.js';
import { quizReads, quizWrites, quizzesRepo, type AttemptQuiz } from './quizzes.repo.js';
import { authoredFields, buildQuestion, checkResponse, correctResponse, scoreResponse, type AnswerKey, type QuestionContent } from './scoring.js';

export const AUTOSUBMIT_JOB = 'learning.attempt.autosubmit';

interface LayoutEntry {
  /** Question id. */
  q: string;
  /** Option order (choices, ordering items) or the right-hand order (matching), as shown. */
  o?: string[];
}

/** An attempt's questions and stored answers, by question id. */
interface AttemptContent {
  questions: Map<string, QuestionRow>;
  answers: Map<string, AnswerRow>;
  /** Questions whose answer in `answers` came with this request and is not stored yet. */
  unsaved?: ReadonlySet<string>;
}

/** Parses a JSON column, or gives `fallback` for text that is not JSON. */
export const json = <T>(text: string, fallback: T): T => {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const round = (n: number) => Math.round(n * 100) / 100;

export function quizView(row: QuizRow, questionCount: number): QuizView {
  return {
    id: row.id,
    courseId: row.course_id,
    lessonId: row.lesson_id,
    title: row.title,
    description: row.description,
    status: row.status,
    timeLimitSeconds: row.time_limit_seconds,
    maxAttempts: row.max_attempts,
    passingScore: row.passing_score,
    opensAt: row.opens_at,
    closesAt: row.closes_at,
    shuffleQuestions: Boolean(row.shuffle_questions),
    shuffleOptions: Boolean(row.shuffle_options),
    feedback: row.feedback,
    drawCount: row.draw_count,
    required: Boolean(row.required),
    questionCount,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export function questionView(row: QuestionRow): QuestionView {
  const type = row.type as QuestionType;
  return {
    id: row.id,
    quizId: row.quiz_id,
    position: row.position,
    type,
    prompt: row.prompt,
    points: row.points,
    explanation: row.explanation,
    ...authoredFields(type, json<QuestionContent>(row.content, {}), json<AnswerKey>(row.answer_key, {})),
    version: row.version,
  };
}

const summaryView = (a: AttemptRow): AttemptSummaryView => ({
  id: a.id,
  quizId: a.quiz_id,
  userId: a.user_id,
  number: a.number,
  status: a.status,
  startedAt: a.started_at,
  deadlineAt: a.deadline_at,
  submittedAt: a.submitted_at,
  score: a.score === null ? null : Number(a.score),
  maxScore: Number(a.max_score),
  passed: a.passed === null ? null : Boolean(a.passed),
});

/**
 * Quizzes, questions and attempts. Scoring is on the server only: students receive questions
 * without answer keys, and feedback only after submitting, as much as the quiz's feedback level allows.
 */
export function createQuizService(
  ctx: LearningContext & {
    courses: CourseService;
    jobs: JobQueue;
    /** Called in the grading transaction when an attempt passes (course completion). */
    onGraded?: (tx: Tx, courseId: string, userId: string, actorId: string | null) => Promise<void>;
    /** Streak days and achievements (a submission is a day's activity; full marks earn `perfect_score`). */
    activity?: Activity;
  },
) {
  const { database, clock, events, cursors, courses, jobs, onGraded, activity } = ctx;
  const { db } = database;
  const repo = (handle: typeof db | Tx = db) => quizzesRepo(handle);
  const reads = quizReads(db);
  const writes = quizWrites(db);
  const iso = () => clock.now().toISOString();

  /** The quiz if the caller may see it (staff: always; others: published, in a course whose lessons they may see). */
  async function quizAccess(handle: typeof db | Tx, principal: Principal | null, quizId: string): Promise<{ quiz: QuizRow; access: CourseSight }> {
    const found = await reads.quizWithSight(handle, quizId, principal?.userId ?? '');
    if (!found) throw quizNotFound();
    const { course_status, course_visibility, course_owner_id, enrollment_status, co_teaches, ...quiz } = found;
    const access: CourseSight = {
      staff: isCourseStaff(principal, course_owner_id, Boolean(co_teaches)),
      course: { status: course_status, visibility: course_visibility },
      enrollment: enrollment_status ? { status: enrollment_status } : undefined,
    };
    if (!canSeeLessons(access) || (!access.staff && quiz.status !== 'published')) throw quizNotFound();
    return { quiz, access };
  }

  async function managedQuiz(handle: typeof db | Tx, principal: Principal, quizId: string) {
    const found = await quizAccess(handle, principal, quizId);
    if (!found.access.staff) throw forbidden('Only the course’s teachers and administrators may do this.');
    return found;
  }

  /** The attempt if the caller may see it: their own, or any in a course they teach. */
  async function attemptAccess(handle: typeof db | Tx, principal: Principal, attemptId: string, found?: AttemptRow) {
    const attempt = found ?? (await reads.findAttempt(handle, attemptId));
    if (!attempt) throw attemptNotFound();
    const quiz = await reads.findQuiz(handle, attempt.quiz_id);
    const access = await courses.accessOf(principal, attempt.course_id, handle);
    if (!quiz || !access || (attempt.user_id !== principal.userId && !access.staff)) throw attemptNotFound();
    return { attempt, quiz, access, own: attempt.user_id === principal.userId };
  }

  /**
   * The caller's own attempt and what its writes need of its quiz, for the student's writes (save,
   * submit). One read: its course exists by foreign keys. Anyone else learns 404, or 403 when they
   * teach the course.
   */
  async function ownAttempt(handle: typeof db | Tx, principal: Principal, attemptId: string, refusal: string): Promise<{ attempt: AttemptRow; quiz: AttemptQuiz }> {
    const found = await reads.attemptWithQuiz(handle, attemptId);
    if (found?.user_id === principal.userId) {
      const { quiz_title, quiz_passing_score, quiz_feedback, ...attempt } = found;
      return { attempt, quiz: { id: attempt.quiz_id, title: quiz_title, passing_score: quiz_passing_score, feedback: quiz_feedback } };
    }
    await attemptAccess(handle, principal, attemptId, found);
    throw forbidden(refusal);
  }

  /** The attempt's questions and stored answers (one read): what its score and its view are made of. */
  async function contentOf(handle: typeof db | Tx, attempt: AttemptRow): Promise<AttemptContent> {
    const rows = await reads.questionsWithAnswers(handle, attempt.id, json<LayoutEntry[]>(attempt.layout, []).map((l) => l.q));
    const content: AttemptContent = { questions: new Map(), answers: new Map() };
    for (const { a_question_id, a_response, a_client_timestamp, a_points, a_comment, a_updated_at, ...question } of rows) {
      content.questions.set(question.id, question);
      if (a_question_id !== null) {
        content.answers.set(question.id, { attempt_id: attempt.id, question_id: question.id, response: a_response!, client_timestamp: a_client_timestamp, points: a_points, comment: a_comment, updated_at: a_updated_at! });
      }
    }
    return content;
  }

  function checkWindow(opens: string | null, closes: string | null) {
    if (opens && closes && Date.parse(opens) >= Date.parse(closes)) throw invalid('The quiz must open before it closes.', '/body/closesAt');
  }

  async function checkLesson(courseId: string, lessonId: string | null | undefined, handle: typeof db | Tx) {
    if (!lessonId) return;
    const lesson = await (handle as typeof db).selectFrom('learning_lesson').select(['course_id']).where('id', '=', lessonId).executeTakeFirst();
    if (!lesson || lesson.course_id !== courseId) throw invalid('The lesson must belong to the quiz’s course.', '/body/lessonId');
  }

  /** Scores an attempt from its answers and writes the auto-scored points; returns the totals and the answers as now stored. */
  async function score(tx: Tx, attempt: AttemptRow, content: AttemptContent) {
    const answers = new Map(content.answers);
    const rescored: AnswerRow[] = [];
    const write = (row: AnswerRow) => {
      answers.set(row.question_id, row);
      rescored.push(row);
    };
    const unanswered = (questionId: string, points: number): AnswerRow => ({ attempt_id: attempt.id, question_id: questionId, response: 'null', client_timestamp: null, points, comment: null, updated_at: iso() });
    let total = 0;
    let max = 0;
    let pending = 0;
    for (const { q } of json<LayoutEntry[]>(attempt.layout, [])) {
      const question = content.questions.get(q);
      if (!question) continue;
      max += question.points;
      const type = question.type as QuestionType;
      const answer = answers.get(q);
      const unsaved = content.unsaved?.has(q) === true;
      if (type === 'free_text') {
        // Nothing written: nothing to grade.
        if (!answer) write(unanswered(q, 0));
        else {
          if (unsaved) write(answer);
          if (answer.points === null) pending++;
          else total += Number(answer.points);
        }
        continue;
      }
      const points = scoreResponse(type, json<AnswerKey>(question.answer_key, {}), question.points, answer ? json<ResponseValue | null>(answer.response, null) : null) ?? 0;
      total += points;
      if (!answer) write(unanswered(q, points));
      else if (unsaved || answer.points !== points) write({ ...answer, points });
    }
    // Responses that came with the request are written with their points: one statement either way.
    await (content.unsaved?.size ? writes.saveResponses : writes.savePoints)(tx, rescored);
    return { total: round(total), max, pending, content: { questions: content.questions, answers } };
  }

  /**
   * Closes an open attempt (submit, deadline, auto-submit) or re-scores a closed one (grading,
   * regrading), and emits `learning.attempt.graded` when the score is final and new.
   */
  async function settle(
    tx: Tx,
    attempt: AttemptRow,
    quiz: Pick<QuizRow, 'id' | 'title' | 'passing_score'>,
    options: { submit?: { auto: boolean }; actorId: string | null },
    loaded?: AttemptContent,
  ): Promise<{ attempt: AttemptRow; content: AttemptContent }> {
    // First, before any other lock: a pass may complete the course, as a lesson completion may.
    await lockEnrollments(tx, database.dialect.name, attempt.course_id, [attempt.user_id]);
    const { total, max, pending, content } = await score(tx, attempt, loaded ?? (await contentOf(tx, attempt)));
    const graded = pending === 0;
    const passed = graded ? (max === 0 ? true : (total / max) * 100 >= quiz.passing_score) : null;
    const changes = {
      status: graded ? 'graded' : 'submitted',
      score: graded ? total : null,
      max_score: max,
      passed: passed === null ? null : passed ? 1 : 0,
      open_key: options.submit ? null : attempt.open_key,
      submitted_at: options.submit ? iso() : attempt.submitted_at,
    } satisfies Partial<AttemptRow>;
    const written = await writes.scoreAttempt(tx, attempt.id, attempt.version, changes.status, changes.score, changes.max_score, changes.passed, changes.open_key, changes.submitted_at);
    if (!written) throw conflict(LearningErrors.LEARNING_ATTEMPT_CLOSED, 'The attempt changed meanwhile; retry.');
    const next: AttemptRow = { ...attempt, ...changes, version: attempt.version + 1 };
    const changed = attempt.status !== 'graded' || Number(attempt.score) !== total || Number(attempt.max_score) !== max;
    const newGrade = graded && changed;
    // Both facts of a submission are appended together: one insert for the events, one for their scopes.
    const facts: Array<EventInput<AttemptSubmittedPayload | AttemptGradedPayload>> = [];
    if (options.submit) {
      facts.push({
        type: LearningEvents.attemptSubmitted,
        scopes: [`user:${attempt.user_id}`, `course:${attempt.course_id}`],
        payload: { attemptId: attempt.id, quizId: quiz.id, courseId: attempt.course_id, userId: attempt.user_id, auto: options.submit.auto, needsGrading: !graded },
        actorId: options.actorId,
      });
    }
    if (newGrade) {
      facts.push({
        type: LearningEvents.attemptGraded,
        scopes: [`user:${attempt.user_id}`],
        payload: { attemptId: attempt.id, quizId: quiz.id, quizTitle: quiz.title, courseId: attempt.course_id, userId: attempt.user_id, score: total, maxScore: max, passed: Boolean(passed) },
        actorId: options.actorId,
      });
    }
    await events.appendMany(tx, facts);
    if (options.submit) await activity?.attemptSubmitted(tx, attempt.user_id);
    if (newGrade) {
      await activity?.attemptGraded(tx, attempt.user_id, total, max);
      if (passed) await onGraded?.(tx, attempt.course_id, attempt.user_id, options.actorId);
    }
    return { attempt: next, content };
  }

  /**
   * Checks a student's answers against the attempt's questions and puts them into `content`, for a
   * save or a submission to write. Idempotent per question; an answer older than the stored one (by
   * clientTimestamp) is skipped. Returns the answers that changed.
   */
  function applyAnswers(attempt: AttemptRow, content: AttemptContent, given: AnswersPatch['answers']): AnswerRow[] {
    const { questions, answers } = content;
    const now = iso();
    const changed = new Map<string, AnswerRow>();
    for (const [i, a] of given.entries()) {
      const question = questions.get(a.questionId);
      if (!question) throw invalid('The question is not part of this attempt.', `/body/answers/${i}/questionId`);
      checkResponse(question.type as QuestionType, json<QuestionContent>(question.content, {}), a.response, `/body/answers/${i}/response`);
      const stored = answers.get(a.questionId);
      const clientTimestamp = a.clientTimestamp ? new Date(a.clientTimestamp).toISOString() : null;
      if (stored && stored.client_timestamp && clientTimestamp && clientTimestamp < stored.client_timestamp) continue;
      const row: AnswerRow = { attempt_id: attempt.id, question_id: a.questionId, response: JSON.stringify(a.response), client_timestamp: clientTimestamp, points: null, comment: stored?.comment ?? null, updated_at: now };
      answers.set(a.questionId, row);
      changed.set(a.questionId, row);
    }
    return [...changed.values()];
  }

  const timeIsUp = () => conflict(LearningErrors.LEARNING_ATTEMPT_CLOSED, 'The time is up: the attempt was submitted without these answers.');

  const pastDeadline = (deadline: string | null) => deadline !== null && clock.now().getTime() >= Date.parse(deadline);
  const expired = (attempt: AttemptRow) => attempt.status === 'open' && pastDeadline(attempt.deadline_at);

  /** What the caller sees of an attempt: staff see everything; a student what the quiz's feedback level allows once submitted. */
  function attemptView(attempt: AttemptRow, level: QuizRow['feedback'], { questions, answers }: AttemptContent): AttemptView {
    const layout = json<LayoutEntry[]>(attempt.layout, []);
    const showResult = attempt.status !== 'open' && level !== 'none';
    const items: AttemptView['questions'] = [];
    for (const entry of layout) {
      const q = questions.get(entry.q);
      if (!q) continue;
      const type = q.type as QuestionType;
      const content = json<QuestionContent>(q.content, {});
      const answer = answers.get(q.id);
      const response = answer ? json<ResponseValue | null>(answer.response, null) : null;
      const byId = <T extends { id: string }>(list: T[] | undefined, order: string[] | undefined) =>
        order ? order.map((id) => list?.find((i) => i.id === id)).filter((i): i is T => Boolean(i)) : (list ?? []);
      const item: AttemptView['questions'][number] = { id: q.id, type, prompt: q.prompt, points: q.points, answer: response };
      if (type === 'single' || type === 'multiple' || type === 'ordering') item.options = byId(content.options, entry.o);
      if (type === 'matching') {
        item.left = content.left ?? [];
        item.right = byId(content.right, entry.o);
      }
      if (showResult) {
        const points = answer?.points === null || answer?.points === undefined ? null : Number(answer.points);
        const result: NonNullable<AttemptView['questions'][number]['result']> = { correct: points === null ? null : points >= q.points, points };
        if (level === 'answers' || level === 'explanations') {
          // The key is read only where it is shown.
          const correct = correctResponse(type, json<AnswerKey>(q.answer_key, {}));
          if (correct) result.correctAnswer = correct;
        }
        if (level === 'explanations' && q.explanation) result.explanation = q.explanation;
        if (answer?.comment) result.comment = answer.comment;
        item.result = result;
      }
      items.push(item);
    }
    return { ...summaryView(attempt), courseId: attempt.course_id, questions: items, version: attempt.version };
  }

  /** The deadline job: submits the attempt if it is still open. Idempotent. */
  async function autoSubmit(attemptId: string): Promise<AttemptRow | undefined> {
    return withTransaction(db, async (tx) => {
      const attempt = await reads.findAttempt(tx, attemptId);
      if (!attempt) return undefined;
      if (attempt.status !== 'open') return attempt;
      const quiz = await reads.findQuiz(tx, attempt.quiz_id);
      if (!quiz) return attempt;
      return (await settle(tx, attempt, quiz, { submit: { auto: true }, actorId: null })).attempt;
    });
  }

  async function placeQuestion(tx: Tx, quizId: string, questionId: string, position: number | undefined) {
    const list = await reads.questionsOf(tx, quizId);
    const current = list.find((q) => q.id === questionId);
    if (!current) return;
    const others = list.filter((q) => q.id !== questionId);
    const index = position === undefined ? others.length : Math.min(Math.max(position, 1), others.length + 1) - 1;
    others.splice(index, 0, current);
    for (const [i, q] of others.entries()) if (q.position !== i + 1) await repo(tx).setQuestionPosition(q.id, i + 1);
  }

  async function hasAttempts(tx: Tx, quizId: string) {
    return Boolean(await (tx as unknown as typeof db).selectFrom('learning_attempt').select('id').where('quiz_id', '=', quizId).limit(1).executeTakeFirst());
  }

  const questionEvent = (tx: Tx, q: { id: string; quiz_id: string }, courseId: string, change: QuestionChangedPayload['change'], regradedAttempts: number, actorId: string) =>
    events.append<QuestionChangedPayload>(tx, {
      type: LearningEvents.questionChanged,
      scopes: [`course:${courseId}`],
      payload: { questionId: q.id, quizId: q.quiz_id, courseId, change, regradedAttempts },
      actorId,
    });

  return {
    /** The quiz if the caller teaches its course (or is an administrator): 404 when hidden, 403 when only visible. */
    managed: (principal: Principal, quizId: string) => managedQuiz(db, principal, quizId),

    // ── quizzes ────────────────────────────────────────────────────────
    async createQuiz(principal: Principal, courseId: string, input: QuizCreate): Promise<QuizView> {
      checkWindow(input.opensAt ?? null, input.closesAt ?? null);
      return withTransaction(db, async (tx) => {
        await courses.managed(principal, courseId, tx);
        await checkLesson(courseId, input.lessonId, tx);
        const now = iso();
        const row: QuizRow = {
          id: newId('qz'),
          course_id: courseId,
          lesson_id: input.lessonId ?? null,
          title: input.title.trim(),
          description: input.description ?? '',
          status: input.status ?? 'draft',
          time_limit_seconds: input.timeLimitSeconds ?? null,
          max_attempts: input.maxAttempts ?? null,
          passing_score: input.passingScore ?? 50,
          opens_at: input.opensAt ?? null,
          closes_at: input.closesAt ?? null,
          shuffle_questions: input.shuffleQuestions ? 1 : 0,
          shuffle_options: input.shuffleOptions ? 1 : 0,
          feedback: input.feedback ?? 'correctness',
          draw_count: input.drawCount ?? null,
          required: input.required === false ? 0 : 1,
          version: 1,
          created_at: now,
          updated_at: now,
        };
        await repo(tx).insertQuiz(row);
        await events.append<QuizPayload>(tx, { type: LearningEvents.quizCreated, scopes: [`course:${courseId}`], payload: { quizId: row.id, courseId, version: 1 }, actorId: principal.userId });
        return quizView(row, 0);
      });
    },

    async listQuizzes(principal: Principal | null, courseId: string, query: { limit?: number; cursor?: string }): Promise<Page<QuizView>> {
      const access = await courses.visible(principal, courseId);
      if (!canSeeLessons(access)) throw forbidden('Enroll in this private course to see its quizzes.');
      const limit = query.limit ?? 20;
      const after = query.cursor ? String(cursors.decode(query.cursor)[0]) : undefined;
      const rows = await repo().listQuizzes(courseId, !access.staff, after, limit + 1);
      const counts = await repo().questionCounts(rows.map((r) => r.id));
      return toPage(rows, limit, cursors, (r) => [r.id], (r) => quizView(r, counts.get(r.id) ?? 0));
    },

    async getQuiz(principal: Principal | null, quizId: string): Promise<QuizView> {
      const { quiz } = await quizAccess(db, principal, quizId);
      return quizView(quiz, (await repo().questionCounts([quiz.id])).get(quiz.id) ?? 0);
    },

    async updateQuiz(principal: Principal, quizId: string, expected: number | undefined, patch: QuizPatch): Promise<QuizView> {
      return withTransaction(db, async (tx) => {
        const { quiz } = await managedQuiz(tx, principal, quizId);
        if (expected !== undefined && expected !== quiz.version) throw versionMismatch(quiz.version);
        if (patch.lessonId !== undefined) await checkLesson(quiz.course_id, patch.lessonId, tx);
        const changes: Partial<QuizRow> = {
          ...(patch.title !== undefined ? { title: patch.title.trim() } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.lessonId !== undefined ? { lesson_id: patch.lessonId } : {}),
          ...(patch.status !== undefined ? { status: patch.status } : {}),
          ...(patch.timeLimitSeconds !== undefined ? { time_limit_seconds: patch.timeLimitSeconds } : {}),
          ...(patch.maxAttempts !== undefined ? { max_attempts: patch.maxAttempts } : {}),
          ...(patch.passingScore !== undefined ? { passing_score: patch.passingScore } : {}),
          ...(patch.opensAt !== undefined ? { opens_at: patch.opensAt } : {}),
          ...(patch.closesAt !== undefined ? { closes_at: patch.closesAt } : {}),
          ...(patch.shuffleQuestions !== undefined ? { shuffle_questions: patch.shuffleQuestions ? 1 : 0 } : {}),
          ...(patch.shuffleOptions !== undefined ? { shuffle_options: patch.shuffleOptions ? 1 : 0 } : {}),
          ...(patch.feedback !== undefined ? { feedback: patch.feedback } : {}),
          ...(patch.drawCount !== undefined ? { draw_count: patch.drawCount } : {}),
          ...(patch.required !== undefined ? { required: patch.required ? 1 : 0 } : {}),
          updated_at: iso(),
        };
        const next: QuizRow = { ...quiz, ...changes, version: quiz.version + 1 };
        checkWindow(next.opens_at, next.closes_at);
        if (!(await repo(tx).updateQuiz(quiz.id, quiz.version, changes))) throw versionMismatch(quiz.version + 1);
        await events.append<QuizPayload>(tx, { type: LearningEvents.quizUpdated, scopes: [`course:${quiz.course_id}`], payload: { quizId: quiz.id, courseId: quiz.course_id, version: next.version }, actorId: principal.userId });
        return quizView(next, (await repo(tx).questionCounts([quiz.id])).get(quiz.id) ?? 0);
      });
    },

    async deleteQuiz(principal: Principal, quizId: string, expected: number | undefined): Promise<void> {
      await withTransaction(db, async (tx) => {
        const { quiz } = await managedQuiz(tx, principal, quizId);
        if (expected !== undefined && expected !== quiz.version) throw versionMismatch(quiz.version);
        if (await hasAttempts(tx, quiz.id)) throw conflict(LearningErrors.LEARNING_QUIZ_HAS_ATTEMPTS, 'Students have attempted this quiz: unpublish it (status "draft") instead.');
        await repo(tx).deleteQuiz(quiz.id);
        await events.append<QuizPayload>(tx, { type: LearningEvents.quizDeleted, scopes: [`course:${quiz.course_id}`], payload: { quizId: quiz.id, courseId: quiz.course_id, version: quiz.version }, actorId: principal.userId });
      });
    },

    // ── questions (staff only: they carry the answer keys) ─────────────
    async listQuestions(principal: Principal, quizId: string): Promise<{ items: QuestionView[] }> {
      const { quiz } = await managedQuiz(db, principal, quizId);
      return { items: (await reads.questionsOf(db, quiz.id)).map(questionView) };
    },

    async createQuestion(principal: Principal, quizId: string, input: QuestionCreate): Promise<QuestionView> {
      const { content, key } = buildQuestion(input);
      return withTransaction(db, async (tx) => {
        const { quiz } = await managedQuiz(tx, principal, quizId);
        const existing = await reads.questionsOf(tx, quiz.id);
        if (existing.length >= 500) throw invalid('A quiz holds 500 questions at most.');
        const now = iso();
        const row: QuestionRow = {
          id: newId('qst'),
          quiz_id: quiz.id,
          position: existing.length + 1,
          type: input.type,
          prompt: input.prompt,
          points: input.points ?? 1,
          explanation: input.explanation ?? '',
          content: JSON.stringify(content),
          answer_key: JSON.stringify(key),
          version: 1,
          created_at: now,
          updated_at: now,
        };
        await repo(tx).insertQuestion(row);
        await questionEvent(tx, row, quiz.course_id, 'created', 0, principal.userId);
        return questionView(row);
      });
    },

    /** Changes a question; when its key or points change, every submitted attempt that has it is re-scored. */
    async updateQuestion(principal: Principal, questionId: string, expected: number | undefined, patch: QuestionPatch): Promise<QuestionView> {
      const found = await repo().findQuestion(questionId);
      if (!found) throw questionNotFound();
      return withTransaction(db, async (tx) => {
        const question = await repo(tx).findQuestion(questionId);
        if (!question) throw questionNotFound();
        const { quiz } = await managedQuiz(tx, principal, question.quiz_id).catch((err: unknown) => {
          throw err instanceof AppError && err.status === 404 ? questionNotFound() : err;
        });
        if (expected !== undefined && expected !== question.version) throw versionMismatch(question.version);
        const current = questionView(question);
        const { position, ...fields } = patch;
        const merged = { ...current, ...fields, type: current.type };
        const { content, key } = buildQuestion(merged as QuestionCreate);
        const changes: Partial<QuestionRow> = {
          prompt: merged.prompt,
          points: merged.points,
          explanation: merged.explanation,
          content: JSON.stringify(content),
          answer_key: JSON.stringify(key),
          updated_at: iso(),
        };
        if (!(await repo(tx).updateQuestion(question.id, question.version, changes))) throw versionMismatch(question.version + 1);
        if (position !== undefined) await placeQuestion(tx, quiz.id, question.id, position);
        let regraded = 0;
        if (changes.answer_key !== question.answer_key || changes.points !== question.points) {
          const attempts = await repo(tx).closedAttemptsWith(quiz.id, question.id);
          // All the students' locks at once, in one order: taken one by one, they could deadlock with a student's own write.
          await lockEnrollments(tx, database.dialect.name, quiz.course_id, attempts.map((a) => a.user_id));
          for (const attempt of attempts) {
            await settle(tx, attempt, quiz, { actorId: principal.userId });
            regraded++;
          }
        }
        await questionEvent(tx, question, quiz.course_id, 'updated', regraded, principal.userId);
        return questionView((await repo(tx).findQuestion(question.id))!);
      });
    },

    async deleteQuestion(principal: Principal, questionId: string, expected: number | undefined): Promise<void> {
      const found = await repo().findQuestion(questionId);
      if (!found) throw questionNotFound();
      await withTransaction(db, async (tx) => {
        const question = await repo(tx).findQuestion(questionId);
        if (!question) throw questionNotFound();
        const { quiz } = await managedQuiz(tx, principal, question.quiz_id).catch((err: unknown) => {
          throw err instanceof AppError && err.status === 404 ? questionNotFound() : err;
        });
        if (expected !== undefined && expected !== question.version) throw versionMismatch(question.version);
        if (await hasAttempts(tx, quiz.id)) throw conflict(LearningErrors.LEARNING_QUIZ_HAS_ATTEMPTS, 'Students have attempted this quiz: correct the question instead (attempts are regraded).');
        await repo(tx).deleteQuestion(question.id);
        for (const [i, q] of (await reads.questionsOf(tx, quiz.id)).entries()) if (q.position !== i + 1) await repo(tx).setQuestionPosition(q.id, i + 1);
        await questionEvent(tx, question, quiz.course_id, 'deleted', 0, principal.userId);
      });
    },

    // ── attempts ───────────────────────────────────────────────────────
    async start(principal: Principal, quizId: string): Promise<AttemptView> {
      try {
        return await withTransaction(db, async (tx) => {
          const { quiz, access } = await quizAccess(tx, principal, quizId);
          if (!access.staff && access.enrollment?.status !== 'active') throw forbidden('Enroll in the course to take its quizzes.');
          if (quiz.status !== 'published') throw conflict(LearningErrors.LEARNING_QUIZ_NOT_OPEN, 'The quiz is not published.');
          const now = clock.now();
          if ((quiz.opens_at && now.getTime() < Date.parse(quiz.opens_at)) || (quiz.closes_at && now.getTime() >= Date.parse(quiz.closes_at))) {
            throw conflict(LearningErrors.LEARNING_QUIZ_NOT_OPEN, 'The quiz is not open now.');
          }
          const openKey = `${quiz.id}:${principal.userId}`;
          const { taken, open_id: openId, open_deadline_at: openDeadline } = (await reads.attemptsSoFar(tx, quiz.id, principal.userId, openKey))!;
          if (openId && !pastDeadline(openDeadline)) throw conflict(LearningErrors.LEARNING_ATTEMPT_OPEN, `Attempt ${openId} is still open: continue or submit it.`);
          // Its time is up: it is submitted now, as the deadline job would (only then is the whole row read).
          if (openId) await settle(tx, (await reads.findAttempt(tx, openId))!, quiz, { submit: { auto: true }, actorId: null });
          const previous = Number(taken);
          if (quiz.max_attempts !== null && previous >= quiz.max_attempts) throw conflict(LearningErrors.LEARNING_NO_ATTEMPTS_LEFT, 'No attempts left for this quiz.');
          const questions = await reads.questionsOf(tx, quiz.id);
          if (!questions.length) throw conflict(LearningErrors.LEARNING_QUIZ_EMPTY, 'The quiz has no questions yet.');
          let drawn = quiz.draw_count !== null && quiz.draw_count < questions.length ? shuffled(questions).slice(0, quiz.draw_count) : questions;
          drawn = quiz.shuffle_questions ? shuffled(drawn) : quiz.draw_count !== null ? drawn.sort((a, b) => a.position - b.position) : drawn;
          const layout: LayoutEntry[] = drawn.map((q) => {
            const content = json<QuestionContent>(q.content, {});
            const ids = (items?: Array<{ id: string }>) => (items ?? []).map((i) => i.id);
            // Ordering and matching are always shuffled: their authored order is the answer.
            if (q.type === 'ordering') return { q: q.id, o: shuffled(ids(content.options)) };
            if (q.type === 'matching') return { q: q.id, o: shuffled(ids(content.right)) };
            if ((q.type === 'single' || q.type === 'multiple') && quiz.shuffle_options) return { q: q.id, o: shuffled(ids(content.options)) };
            return { q: q.id };
          });
          const limitEnd = quiz.time_limit_seconds !== null ? now.getTime() + quiz.time_limit_seconds * 1000 : null;
          const closeEnd = quiz.closes_at ? Date.parse(quiz.closes_at) : null;
          const deadline = limitEnd !== null || closeEnd !== null ? new Date(Math.min(limitEnd ?? Infinity, closeEnd ?? Infinity)).toISOString() : null;
          const row: AttemptRow = {
            id: newId('att'),
            quiz_id: quiz.id,
            course_id: quiz.course_id,
            user_id: principal.userId,
            number: previous + 1,
            status: 'open',
            open_key: openKey,
            layout: JSON.stringify(layout),
            started_at: now.toISOString(),
            deadline_at: deadline,
            submitted_at: null,
            score: null,
            max_score: drawn.reduce((sum, q) => sum + q.points, 0),
            passed: null,
            version: 1,
          };
          await writes.insertAttempt(tx, row);
          if (deadline) await jobs.enqueue(tx, AUTOSUBMIT_JOB, { attemptId: row.id }, { runAt: new Date(deadline), uniqueKey: `${AUTOSUBMIT_JOB}:${row.id}` });
          await events.append<AttemptStartedPayload>(tx, {
            type: LearningEvents.attemptStarted,
            scopes: [`user:${principal.userId}`],
            payload: { attemptId: row.id, quizId: quiz.id, courseId: quiz.course_id, userId: principal.userId, deadlineAt: deadline },
            actorId: principal.userId,
          });
          return attemptView(row, quiz.feedback, { questions: new Map(drawn.map((q) => [q.id, q])), answers: new Map() });
        });
      } catch (err) {
        if (isDbError(err, 'unique')) throw conflict(LearningErrors.LEARNING_ATTEMPT_OPEN, 'An attempt of this quiz is already open.');
        throw err;
      }
    },

    async listAttempts(principal: Principal, quizId: string, query: AttemptQuery): Promise<Page<AttemptSummaryView>> {
      const { access } = await quizAccess(db, principal, quizId);
      const userId = access.staff ? query.userId : principal.userId;
      const limit = query.limit ?? 20;
      const after = query.cursor ? String(cursors.decode(query.cursor)[0]) : undefined;
      const rows = await repo().listAttempts(quizId, userId, after, limit + 1);
      return toPage(rows, limit, cursors, (r) => [r.id], summaryView);
    },

    async getAttempt(principal: Principal, attemptId: string): Promise<AttemptView> {
      const found = await attemptAccess(db, principal, attemptId);
      const { quiz, access } = found;
      let attempt = found.attempt;
      if (expired(attempt)) attempt = (await autoSubmit(attempt.id)) ?? attempt;
      return attemptView(attempt, access.staff ? 'explanations' : quiz.feedback, await contentOf(db, attempt));
    },

    /** Saves answers (idempotent per question; an answer older than the stored one, by clientTimestamp, is ignored). */
    async saveAnswers(principal: Principal, attemptId: string, body: AnswersPatch): Promise<AttemptView> {
      const view = await withTransaction(db, async (tx) => {
        const { attempt, quiz } = await ownAttempt(tx, principal, attemptId, 'Only the student who started the attempt may answer.');
        if (expired(attempt)) {
          await settle(tx, attempt, quiz, { submit: { auto: true }, actorId: null });
          return undefined;
        }
        if (attempt.status !== 'open') throw conflict(LearningErrors.LEARNING_ATTEMPT_CLOSED, 'The attempt is already submitted.');
        const content = await contentOf(tx, attempt);
        await writes.saveResponses(tx, applyAnswers(attempt, content, body.answers));
        // The version check fails if a submission (or another save) got in first.
        if (!(await writes.touchAttempt(tx, attempt.id, attempt.version))) throw conflict(LearningErrors.LEARNING_ATTEMPT_CLOSED, 'The attempt changed meanwhile; retry.');
        // An open attempt shows no results yet, whatever the quiz's feedback level.
        return attemptView({ ...attempt, version: attempt.version + 1 }, 'none', content);
      });
      if (!view) throw timeIsUp();
      return view;
    },

    /**
     * Submits and scores, with the answers given saved first in the same transaction. Submitting
     * again returns the result unchanged (answers given then are not applied). Past the deadline,
     * the attempt is submitted with its stored answers, and answers given are refused.
     */
    async submit(principal: Principal, attemptId: string, given?: AnswersPatch['answers']): Promise<AttemptView> {
      const view = await withTransaction(db, async (tx) => {
        const { attempt, quiz } = await ownAttempt(tx, principal, attemptId, 'Only the student who started the attempt may submit it.');
        if (attempt.status !== 'open') return attemptView(attempt, quiz.feedback, await contentOf(tx, attempt));
        const auto = expired(attempt);
        let content: AttemptContent | undefined;
        if (given && !auto) {
          content = await contentOf(tx, attempt);
          content.unsaved = new Set(applyAnswers(attempt, content, given).map((a) => a.question_id));
        }
        const settled = await settle(tx, attempt, quiz, { submit: { auto }, actorId: principal.userId }, content);
        return given && auto ? undefined : attemptView(settled.attempt, quiz.feedback, settled.content);
      });
      if (!view) throw timeIsUp();
      return view;
    },

    autoSubmit,

    /** A teacher grades free-text answers; the attempt is graded once none is left. */
    async grade(principal: Principal, attemptId: string, body: GradeBody): Promise<AttemptView> {
      const found = await attemptAccess(db, principal, attemptId);
      if (!found.access.staff) throw forbidden('Only the course’s teachers and administrators may grade.');
      return withTransaction(db, async (tx) => {
        const { attempt, quiz } = await attemptAccess(tx, principal, attemptId);
        if (attempt.status === 'open') throw conflict(LearningErrors.LEARNING_ATTEMPT_OPEN, 'The attempt is not submitted yet.');
        const layout = new Set(json<LayoutEntry[]>(attempt.layout, []).map((l) => l.q));
        const questions = new Map((await repo(tx).questionsByIds([...layout])).map((q) => [q.id, q]));
        const now = iso();
        for (const [i, g] of body.grades.entries()) {
          const question = questions.get(g.questionId);
          if (!question || question.type !== 'free_text') throw invalid('Only free-text questions of this attempt are graded by hand.', `/body/grades/${i}/questionId`);
          if (g.points > question.points) throw invalid(`At most ${question.points} points.`, `/body/grades/${i}/points`);
          const stored = await repo(tx).findAnswer(attempt.id, g.questionId);
          if (stored) await repo(tx).updateAnswer(attempt.id, g.questionId, { points: g.points, comment: g.comment ?? null, updated_at: now });
          else await repo(tx).insertAnswer({ attempt_id: attempt.id, question_id: g.questionId, response: 'null', client_timestamp: null, points: g.points, comment: g.comment ?? null, updated_at: now });
        }
        const settled = await settle(tx, attempt, quiz, { actorId: principal.userId });
        return attemptView(settled.attempt, 'explanations', settled.content);
      });
    },
  };
}

export type QuizService = ReturnType<typeof createQuizService>;
