import type { Kysely, Transaction } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import { compileReadOn } from '../../core/db/prepared-read.js';
import type { AnswerRow, AttemptRow, LearningTables, QuestionRow, QuizRow } from './learning.tables.js';

type LDb = Kysely<LearningTables> | Transaction<LearningTables>;

/**
 * The reads of every attempt request (start, save, submit), built and compiled once per database:
 * building a Kysely query costs more than SQLite takes to run it. Each runs through the handle it
 * is given, the root or an open transaction.
 */
export function quizReads(root: Db) {
  const first =
    <Args extends unknown[], Row>(all: (handle: Db | Tx, ...args: Args) => Promise<Row[]>) =>
    async (handle: Db | Tx, ...args: Args): Promise<Row | undefined> =>
      (await all(handle, ...args))[0];
  const l = (db: Db) => db as unknown as LDb;
  return {
    findQuiz: first(compileReadOn(root, (db, id: string) => l(db).selectFrom('learning_quiz').selectAll().where('id', '=', id))),
    /** The quiz with what decides who may see it, in one read: its course's status, visibility and owner; whether the user co-teaches it; their enrollment. */
    quizWithSight: first(
      compileReadOn(root, (db, id: string, userId: string) =>
        l(db)
          .selectFrom('learning_quiz as z')
          .innerJoin('learning_course as c', 'c.id', 'z.course_id')
          .leftJoin('learning_enrollment as e', (join) => join.onRef('e.course_id', '=', 'z.course_id').on('e.user_id', '=', userId))
          .selectAll('z')
          .select((eb) => [
            'c.status as course_status',
            'c.visibility as course_visibility',
            'c.owner_id as course_owner_id',
            'e.status as enrollment_status',
            eb.exists(eb.selectFrom('learning_course_teacher as t').select('t.user_id').whereRef('t.course_id', '=', 'z.course_id').where('t.user_id', '=', userId)).as('co_teaches'),
          ])
          .where('z.id', '=', id),
      ),
    ),
    findAttempt: first(compileReadOn(root, (db, id: string) => l(db).selectFrom('learning_attempt').selectAll().where('id', '=', id))),
    attemptsOf: compileReadOn(root, (db, quizId: string, userId: string) => l(db).selectFrom('learning_attempt').selectAll().where('quiz_id', '=', quizId).where('user_id', '=', userId).orderBy('number')),
    questionsOf: compileReadOn(root, (db, quizId: string) => l(db).selectFrom('learning_question').selectAll().where('quiz_id', '=', quizId).orderBy('position').orderBy('id')),
    answersOf: compileReadOn(root, (db, attemptId: string) => l(db).selectFrom('learning_answer').selectAll().where('attempt_id', '=', attemptId)),
  };
}

export type QuizReads = ReturnType<typeof quizReads>;

/** One repo per handle: building its few dozen closures on every call showed in the attempt paths' profile. */
const repos = new WeakMap<Db | Tx, ReturnType<typeof buildRepo>>();

/** Kysely queries on quizzes, questions, attempts and answers. */
export function quizzesRepo(handle: Db | Tx) {
  let repo = repos.get(handle);
  if (!repo) repos.set(handle, (repo = buildRepo(handle)));
  return repo;
}

function buildRepo(handle: Db | Tx) {
  const db = handle as unknown as LDb;
  const updated = (result: { numUpdatedRows: bigint }) => Number(result.numUpdatedRows) === 1;
  return {
    insertQuiz: (row: QuizRow) => db.insertInto('learning_quiz').values(row).execute(),
    async updateQuiz(id: string, version: number, changes: Partial<QuizRow>) {
      return updated(await db.updateTable('learning_quiz').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst());
    },
    deleteQuiz: (id: string) => db.deleteFrom('learning_quiz').where('id', '=', id).execute(),
    async listQuizzes(courseId: string, onlyPublished: boolean, afterId: string | undefined, limit: number) {
      let q = db.selectFrom('learning_quiz').selectAll().where('course_id', '=', courseId);
      if (onlyPublished) q = q.where('status', '=', 'published');
      if (afterId) q = q.where('id', '>', afterId);
      return q.orderBy('id').limit(limit).execute();
    },
    async questionCounts(quizIds: string[]): Promise<Map<string, number>> {
      if (!quizIds.length) return new Map();
      const rows = await db.selectFrom('learning_question').select(['quiz_id', (eb) => eb.fn.countAll<number>().as('n')]).where('quiz_id', 'in', quizIds).groupBy('quiz_id').execute();
      return new Map(rows.map((r) => [r.quiz_id, Number(r.n)]));
    },

    findQuestion: (id: string) => db.selectFrom('learning_question').selectAll().where('id', '=', id).executeTakeFirst(),
    questionsByIds: (ids: string[]) => (ids.length ? db.selectFrom('learning_question').selectAll().where('id', 'in', ids).execute() : Promise.resolve([] as QuestionRow[])),
    insertQuestion: (row: QuestionRow) => db.insertInto('learning_question').values(row).execute(),
    async updateQuestion(id: string, version: number, changes: Partial<QuestionRow>) {
      return updated(await db.updateTable('learning_question').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst());
    },
    setQuestionPosition: (id: string, position: number) => db.updateTable('learning_question').set({ position }).where('id', '=', id).execute(),
    deleteQuestion: (id: string) => db.deleteFrom('learning_question').where('id', '=', id).execute(),

    insertAttempt: (row: AttemptRow) => db.insertInto('learning_attempt').values(row).execute(),
    async updateAttempt(id: string, version: number, changes: Partial<AttemptRow>) {
      return updated(await db.updateTable('learning_attempt').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst());
    },
    async listAttempts(quizId: string, userId: string | undefined, afterId: string | undefined, limit: number) {
      let q = db.selectFrom('learning_attempt').selectAll().where('quiz_id', '=', quizId);
      if (userId) q = q.where('user_id', '=', userId);
      if (afterId) q = q.where('id', '>', afterId);
      return q.orderBy('id').limit(limit).execute();
    },
    /** Submitted or graded attempts that include the question (for regrading). */
    closedAttemptsWith: (quizId: string, questionId: string) =>
      db
        .selectFrom('learning_attempt')
        .selectAll()
        .where('quiz_id', '=', quizId)
        .where('status', '!=', 'open')
        .where('id', 'in', db.selectFrom('learning_answer').select('attempt_id').where('question_id', '=', questionId))
        .execute(),

    findAnswer: (attemptId: string, questionId: string) =>
      db.selectFrom('learning_answer').selectAll().where('attempt_id', '=', attemptId).where('question_id', '=', questionId).executeTakeFirst(),
    insertAnswer: (row: AnswerRow) => db.insertInto('learning_answer').values(row).execute(),
    /** Writes the students' responses (one statement for all; unscored again until submission). */
    saveResponses: (rows: AnswerRow[]) =>
      rows.length
        ? db
            .insertInto('learning_answer')
            .values(rows)
            .onConflict((oc) =>
              oc.columns(['attempt_id', 'question_id']).doUpdateSet((eb) => ({
                response: eb.ref('excluded.response'),
                client_timestamp: eb.ref('excluded.client_timestamp'),
                points: eb.ref('excluded.points'),
                updated_at: eb.ref('excluded.updated_at'),
              })),
            )
            .execute()
        : Promise.resolve(),
    /** Writes scored points (one statement for all): rows without a stored answer are inserted whole. */
    savePoints: (rows: AnswerRow[]) =>
      rows.length
        ? db
            .insertInto('learning_answer')
            .values(rows)
            .onConflict((oc) => oc.columns(['attempt_id', 'question_id']).doUpdateSet((eb) => ({ points: eb.ref('excluded.points') })))
            .execute()
        : Promise.resolve(),
    updateAnswer: (attemptId: string, questionId: string, changes: Partial<AnswerRow>) =>
      db.updateTable('learning_answer').set(changes).where('attempt_id', '=', attemptId).where('question_id', '=', questionId).execute(),
  };
}
