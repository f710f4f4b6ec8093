import type { Kysely } from 'kysely';
import type { Principal } from '../../core/http/access.js';
import type { LearningContext } from './courses.service.js';
import { analyseItems, type AnalysedAttempt } from './item-analysis.js';
import type { ItemAnalysisView } from './item-analysis.schemas.js';
import type { LearningTables } from './learning.tables.js';
import { quizReads } from './quizzes.repo.js';
import { json, type QuizService } from './quizzes.service.js';
import type { AnswerKey, QuestionContent } from './scoring.js';

/** Answers are read in chunks of attempts, under SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 500;

/** Item analysis for teachers: over each student's latest graded attempt of the quiz. */
export function createItemAnalysisService(ctx: Pick<LearningContext, 'database'> & { quizzes: QuizService }) {
  const { database, quizzes } = ctx;
  const db = database.db as unknown as Kysely<LearningTables>;
  const reads = quizReads(database.db);

  return {
    async analyse(principal: Principal, quizId: string): Promise<ItemAnalysisView> {
      const { quiz } = await quizzes.managed(principal, quizId);
      const questions = await reads.questionsOf(database.db, quizId);
      const graded = await db
        .selectFrom('learning_attempt')
        .select(['id', 'user_id', 'number', 'score', 'layout'])
        .where('quiz_id', '=', quizId)
        .where('status', '=', 'graded')
        .orderBy('user_id')
        .orderBy('number', 'desc')
        .execute();
      // The latest graded attempt of each student: the first of each user in this order.
      const latest = graded.filter((a, i) => i === 0 || graded[i - 1]!.user_id !== a.user_id);
      const answers = new Map<string, Map<string, { points: number; response: unknown }>>();
      for (let i = 0; i < latest.length; i += CHUNK) {
        const ids = latest.slice(i, i + CHUNK).map((a) => a.id);
        const rows = await db.selectFrom('learning_answer').select(['attempt_id', 'question_id', 'points', 'response']).where('attempt_id', 'in', ids).execute();
        for (const r of rows) {
          const of = answers.get(r.attempt_id) ?? new Map();
          of.set(r.question_id, { points: Number(r.points ?? 0), response: json<unknown>(r.response, null) });
          answers.set(r.attempt_id, of);
        }
      }
      const attempts: AnalysedAttempt[] = latest.map((a) => {
        const given = answers.get(a.id) ?? new Map();
        // Every drawn question counts; one the student never answered scored 0.
        const drawn = json<Array<{ q: string }>>(a.layout, []).map((l) => l.q);
        return { score: Number(a.score ?? 0), answers: new Map(drawn.map((q) => [q, given.get(q) ?? { points: 0, response: null }])) };
      });
      const items = analyseItems(
        questions.map((q) => {
          const isChoice = q.type === 'single' || q.type === 'multiple';
          const correct = new Set(json<AnswerKey>(q.answer_key, {}).optionIds ?? []);
          const options = isChoice ? (json<QuestionContent>(q.content, {}).options ?? []).map((o) => ({ id: o.id, text: o.text, correct: correct.has(o.id) })) : undefined;
          return { id: q.id, type: q.type, prompt: q.prompt, points: q.points, ...(options ? { options } : {}) };
        }),
        attempts,
      );
      return { quizId, title: quiz.title, attemptsAnalysed: attempts.length, method: 'point-biserial', items };
    },
  };
}

export type ItemAnalysisService = ReturnType<typeof createItemAnalysisService>;
