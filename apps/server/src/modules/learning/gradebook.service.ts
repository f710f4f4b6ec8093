import { pipeline, Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Principal } from '../../core/http/access.js';
import type { CourseService, LearningContext } from './courses.service.js';
import { neutraliseFormula } from './csv-cells.js';
import type { GradebookRowView } from './gradebook.schemas.js';
import { learningRepo } from './learning.repo.js';
import type { ProgressService } from './progress.service.js';
import { quizzesRepo } from './quizzes.repo.js';

/** Students read per database round trip: memory stays bounded by one page, whatever the roster's size. */
const PAGE = 100;

export type GradebookFormat = 'csv' | 'json';

/**
 * The gradebook of a course: one row per active student, one column per published quiz with the
 * best score, then progress and completion. Every number comes from the progress service's
 * `compute` (the one GET /me/progress and the roster use), so the three never disagree.
 */
export function createGradebookService(ctx: LearningContext & { courses: CourseService; progress: ProgressService }) {
  const { database, clock, users, courses, progress } = ctx;
  const { db } = database;

  return {
    async export(principal: Principal, courseId: string, format: GradebookFormat): Promise<{ stream: Readable; contentType: string; filename: string }> {
      const { course } = await courses.managed(principal, courseId);
      const quizzes = await quizzesRepo(db).listQuizzes(courseId, true, undefined, 1000);

      /** The active students a page at a time, with their numbers. */
      async function* rows(): AsyncGenerator<GradebookRowView> {
        for (let after: string | undefined; ; ) {
          const page = await learningRepo(db, database.dialect.name).listEnrollments(courseId, 'active', after, PAGE);
          const names = await users.lookup(page.map((e) => e.user_id));
          for (const enrollment of page) {
            const p = await progress.compute(courseId, course.title, enrollment.user_id);
            // Columns are matched by quiz id, so a quiz published during the export cannot shift them.
            const byId = new Map(p.quizzes.map((z) => [z.quizId, z]));
            yield {
              userId: enrollment.user_id,
              displayName: names.get(enrollment.user_id)?.displayName ?? null,
              quizzes: quizzes.map((z) => {
                const q = byId.get(z.id);
                return { quizId: z.id, bestScore: q?.bestScore ?? null, maxScore: q?.maxScore ?? null, attempts: q?.attempts ?? 0, passed: q?.passed ?? false };
              }),
              percent: p.percent,
              completed: p.completed,
              completedAt: p.completedAt,
            };
          }
          if (page.length < PAGE) return;
          after = page.at(-1)!.id;
        }
      }

      const filename = `gradebook-${course.slug}-${clock.now().toISOString().slice(0, 10)}.${format}`;
      if (format === 'json') {
        async function* json(): AsyncGenerator<string> {
          const head = { courseId, courseTitle: course.title, quizzes: quizzes.map((z) => ({ quizId: z.id, title: z.title })) };
          yield `${JSON.stringify(head).slice(0, -1)},"students":[`;
          let first = true;
          for await (const row of rows()) {
            yield (first ? '' : ',') + JSON.stringify(row);
            first = false;
          }
          yield ']}';
        }
        return { stream: Readable.from(json()), contentType: 'application/json; charset=utf-8', filename };
      }

      // Two quizzes may share a title: the second and later get their id, so every column is unique.
      const seen = new Set<string>();
      const quizHeaders = quizzes.map((z) => {
        const label = seen.has(z.title) ? `${z.title} (${z.id})` : z.title;
        seen.add(z.title);
        return label;
      });
      const records = async function* () {
        yield ['userId', 'displayName', ...quizHeaders, 'percent', 'completed', 'completedAt'];
        for await (const row of rows()) {
          yield [row.userId, row.displayName ?? '', ...row.quizzes.map((q) => q.bestScore ?? ''), row.percent, row.completed ? 'yes' : 'no', row.completedAt ?? ''];
        }
      };
      // Headers and cells alike: a title or a name may start like a formula.
      const csv = stringify({ cast: { string: (value) => neutraliseFormula(value) } });
      // pipeline, not pipe: a database error mid-way destroys the response stream instead of leaving it open.
      pipeline(Readable.from(records()), csv, () => {});
      return { stream: csv, contentType: 'text/csv; charset=utf-8', filename };
    },
  };
}

export type GradebookService = ReturnType<typeof createGradebookService>;
