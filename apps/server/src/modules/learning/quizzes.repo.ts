import type { Kysely, Transaction } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import { compileReadOn, compileWriteOn, perCount, rowsOf, valuesOf } from '../../core/db/prepared-read.js';
import type { AnswerRow, AttemptRow, LearningTables, QuestionRow, QuizRow } from './learning.tables.js';

type LDb = Kysely<LearningTables> | Transaction<LearningTables>;

const l = (db: Db) => db as unknown as LDb;

/** What an attempt's writes need of its quiz, read with the attempt. */
export type AttemptQuiz = Pick<QuizRow, 'id' | 'title' | 'passing_score' | 'feedback'>;

/** A question of an attempt with the attempt's stored answer to it (`a_*`, null when unanswered). */
export type QuestionWithAnswer = QuestionRow & { [K in keyof Omit<AnswerRow, 'attempt_id'> as `a_${K}`]: AnswerRow[K] | null };

/** Every column of `Row`, in a fixed order: a column added to the row type but not here does not compile. */
const allColumns =
  <Row>() =>
  <const Columns extends ReadonlyArray<keyof Row & string>>(columns: Columns & ([Exclude<keyof Row, Columns[number]>] extends [never] ? unknown : never)) =>
    columns;
const ATTEMPT_COLUMNS = allColumns<AttemptRow>()(['id', 'quiz_id', 'course_id', 'user_id', 'number', 'status', 'open_key', 'layout', 'started_at', 'deadline_at', 'submitted_at', 'score', 'max_score', 'passed', 'version']);
const ANSWER_COLUMNS = allColumns<AnswerRow>()(['attempt_id', 'question_id', 'response', 'client_timestamp', 'points', 'comment', 'updated_at']);

/**
 * The statements of every attempt request (start, save, submit), built and compiled once per
 * database: building a Kysely query costs more than SQLite takes to run it. Each runs through the
 * handle it is given, the root or an open transaction.
 */
export function quizReads(root: Db) {
  const first =
    <Args extends unknown[], Row>(all: (handle: Db | Tx, ...args: Args) => Promise<Row[]>) =>
    async (handle: Db | Tx, ...args: Args): Promise<Row | undefined> =>
      (await all(handle, ...args))[0];
  const withAnswers = perCount((count) =>
    compileReadOn(
      root,
      (db, attemptId: string, ...ids: string[]) =>
        l(db)
          .selectFrom('learning_question as q')
          .leftJoin('learning_answer as a', (join) => join.onRef('a.question_id', '=', 'q.id').on('a.attempt_id', '=', attemptId))
          .selectAll('q')
          .select(['a.question_id as a_question_id', 'a.response as a_response', 'a.client_timestamp as a_client_timestamp', 'a.points as a_points', 'a.comment as a_comment', 'a.updated_at as a_updated_at'])
          .where('q.id', 'in', ids),
      count + 1,
    ),
  );
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
    /** The attempt with what its writes need of its quiz (`quiz_*`), in one read. */
    attemptWithQuiz: first(
      compileReadOn(root, (db, id: string) =>
        l(db)
          .selectFrom('learning_attempt as a')
          .innerJoin('learning_quiz as z', 'z.id', 'a.quiz_id')
          .selectAll('a')
          .select(['z.title as quiz_title', 'z.passing_score as quiz_passing_score', 'z.feedback as quiz_feedback'])
          .where('a.id', '=', id),
      ),
    ),
    /**
     * What a start needs of the student's earlier attempts of a quiz, in one read that loads none of
     * them: how many there are (one row, an aggregate), and the open one's id and deadline, joined by
     * its unique `open_key` (set only while open).
     */
    attemptsSoFar: first(
      compileReadOn(root, (db, quizId: string, userId: string, openKey: string) =>
        l(db)
          .selectFrom((eb) => eb.selectFrom('learning_attempt').select((a) => a.fn.countAll<number | string>().as('taken')).where('quiz_id', '=', quizId).where('user_id', '=', userId).as('t'))
          .leftJoin('learning_attempt as o', (join) => join.on('o.open_key', '=', openKey))
          .select(['t.taken', 'o.id as open_id', 'o.deadline_at as open_deadline_at']),
      ),
    ),
    questionsOf: compileReadOn(root, (db, quizId: string) => l(db).selectFrom('learning_question').selectAll().where('quiz_id', '=', quizId).orderBy('position').orderBy('id')),
    /** The questions `ids` with the attempt's stored answer to each, in one read. */
    questionsWithAnswers: async (handle: Db | Tx, attemptId: string, ids: readonly string[]): Promise<QuestionWithAnswer[]> =>
      ids.length ? ((await withAnswers(ids.length)(handle, attemptId, ...ids)) as QuestionWithAnswer[]) : [],
  };
}

export type QuizReads = ReturnType<typeof quizReads>;

/** The writes of every attempt request, compiled once per database like quizReads; each resolves to the number of rows it changed. */
export function quizWrites(root: Db) {
  const insertAttempt = compileWriteOn(root, (db, ...values: unknown[]) => l(db).insertInto('learning_attempt').values(rowsOf<AttemptRow>(ATTEMPT_COLUMNS, values)), ATTEMPT_COLUMNS.length);
  const upsertAnswers = (kind: 'points only' | 'response') =>
    perCount((count) =>
      compileWriteOn(
        root,
        (db, ...values: unknown[]) =>
          l(db)
            .insertInto('learning_answer')
            .values(rowsOf<AnswerRow>(ANSWER_COLUMNS, values))
            .onConflict((oc) =>
              oc.columns(['attempt_id', 'question_id']).doUpdateSet((eb) =>
                kind === 'points only'
                  ? { points: eb.ref('excluded.points') }
                  : { response: eb.ref('excluded.response'), client_timestamp: eb.ref('excluded.client_timestamp'), points: eb.ref('excluded.points'), updated_at: eb.ref('excluded.updated_at') },
              ),
            ),
        count * ANSWER_COLUMNS.length,
      ),
    );
  const responses = upsertAnswers('response');
  const points = upsertAnswers('points only');
  const upsert = async (statement: typeof responses, handle: Db | Tx, rows: AnswerRow[]) => (rows.length ? statement(rows.length)(handle, ...valuesOf(ANSWER_COLUMNS, rows)) : 0);
  return {
    insertAttempt: (handle: Db | Tx, row: AttemptRow) => insertAttempt(handle, ...valuesOf(ATTEMPT_COLUMNS, [row])),
    /** A new version of the attempt, if it still has `version` (answers were saved). */
    touchAttempt: compileWriteOn(root, (db, id: string, version: number) =>
      l(db)
        .updateTable('learning_attempt')
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('id', '=', id)
        .where('version', '=', version),
    ),
    /** Writes a score (and the submission), if the attempt still has `version`. */
    scoreAttempt: compileWriteOn(
      root,
      (db, id: string, version: number, status: AttemptRow['status'], score: number | null, maxScore: number, passed: number | null, openKey: string | null, submittedAt: string | null) =>
        l(db)
          .updateTable('learning_attempt')
          .set((eb) => ({ status, score, max_score: maxScore, passed, open_key: openKey, submitted_at: submittedAt, version: eb('version', '+', 1) }))
          .where('id', '=', id)
          .where('version', '=', version),
    ),
    /** Writes the students' responses (one statement for all; unscored again until submission). */
    saveResponses: (handle: Db | Tx, rows: AnswerRow[]) => upsert(responses, handle, rows),
    /** Writes scored points (one statement for all): rows without a stored answer are inserted whole. */
    savePoints: (handle: Db | Tx, rows: AnswerRow[]) => upsert(points, handle, rows),
  };
}

export type QuizWrites = ReturnType<typeof quizWrites>;

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

    async listAttempts(quizId: string, userId: string | undefined, afterId: string | undefined, limit: number) {
      let q = db.selectFrom('learning_attempt').selectAll().where('quiz_id', '=', quizId);
      if (userId) q = q.where('user_id', '=', userId);
      if (afterId) q = q.where('id', '>', afterId);
      return q.orderBy('id').limit(limit).execute();
    },
    /** Submitted or graded attempts that include the question (for regrading): the quiz's attempts, each answer found by its key. */
    closedAttemptsWith: (quizId: string, questionId: string) =>
      db
        .selectFrom('learning_attempt as t')
        .selectAll('t')
        .where('t.quiz_id', '=', quizId)
        .where('t.status', '!=', 'open')
        .where((eb) => eb.exists(eb.selectFrom('learning_answer as a').select('a.attempt_id').whereRef('a.attempt_id', '=', 't.id').where('a.question_id', '=', questionId)))
        .execute(),

    findAnswer: (attemptId: string, questionId: string) =>
      db.selectFrom('learning_answer').selectAll().where('attempt_id', '=', attemptId).where('question_id', '=', questionId).executeTakeFirst(),
    insertAnswer: (row: AnswerRow) => db.insertInto('learning_answer').values(row).execute(),
    updateAnswer: (attemptId: string, questionId: string, changes: Partial<AnswerRow>) =>
      db.updateTable('learning_answer').set(changes).where('attempt_id', '=', attemptId).where('question_id', '=', questionId).execute(),
  };
}
