import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { Config } from '../../core/config/config.js';
import type { Database } from '../../core/db/database.js';
import type { EventLog } from '../../core/events/types.js';
import type { CursorCodec } from '../../core/http/pagination.js';
import type { JobQueue } from '../../core/jobs/types.js';
import { defineModule, type LyceumModule } from '../../core/module.js';
import type { UsersDirectory } from '../identity/index.js';
import { createActivity } from './activity.js';
import { createCourseService, isCourseAdmin, type CourseService } from './courses.service.js';
import { enrollmentRoutes } from './enrollments.routes.js';
import { createEnrollmentService, type EnrollmentService } from './enrollments.service.js';
import { goalRoutes } from './goals.routes.js';
import { gradebookRoutes } from './gradebook.routes.js';
import { createGradebookService, type GradebookService } from './gradebook.service.js';
import { CLOSE_ABANDONED_JOB, createGoalService, type GoalService } from './goals.service.js';
import { invitationRoutes } from './invitations.routes.js';
import { createInvitationService, type InvitationService } from './invitations.service.js';
import { itemAnalysisRoutes } from './item-analysis.routes.js';
import { createItemAnalysisService, type ItemAnalysisService } from './item-analysis.service.js';
import { learningRepo } from './learning.repo.js';
import { courseRoutes } from './learning.routes.js';
import { progressRoutes } from './progress.routes.js';
import { createProgressService, type ProgressService } from './progress.service.js';
import { quizRoutes } from './quizzes.routes.js';
import { AUTOSUBMIT_JOB, createQuizService, type QuizService } from './quizzes.service.js';
import { statementRoutes } from './statements.routes.js';
import { createStatementService, type StatementService } from './statements.service.js';

export { LearningEvents } from './learning.events.js';
export type {
  CoursePayload,
  EnrollmentActivatedPayload,
  EnrollmentEndedPayload,
  EnrollmentRequestedPayload,
  LessonPayload,
  AttemptGradedPayload,
  AttemptSubmittedPayload,
  QuizPayload,
  LessonCompletedPayload,
  InvitationPayload,
  CourseCompletedPayload,
  AchievementAwardedPayload,
  GoalPayload,
  StudySessionPayload,
} from './learning.events.js';
export { LearningErrors } from './learning.errors.js';

/** Who belongs to a course, for other modules (chat rooms, community spaces, notifications). */
export interface CourseMembership {
  /** 'staff' = owner or co-teacher; 'student' = active enrollment; null = neither (or no such course). */
  roleIn(courseId: string, userId: string): Promise<'staff' | 'student' | null>;
  /** Every member of the course: staff and actively enrolled students. */
  memberIds(courseId: string): Promise<string[]>;
  /** The course's title, or null when there is no such course. */
  title(courseId: string): Promise<string | null>;
  /** The courses the user belongs to, as staff or as an actively enrolled student. */
  courseIdsOf(userId: string): Promise<string[]>;
}

/** What other modules may use of learning (through this file only). */
export interface LearningModule extends LyceumModule {
  membership: CourseMembership;
  courses: CourseService;
  enrollments: EnrollmentService;
  quizzes: QuizService;
  progress: ProgressService;
  goals: GoalService;
  invitations: InvitationService;
  gradebook: GradebookService;
  itemAnalysis: ItemAnalysisService;
  statements: StatementService;
}

/** The core services learning uses (a subset of app.ts's CoreServices). */
export interface LearningCore {
  config: Pick<Config, 'learning' | 'publicUrl'>;
  database: Database;
  clock: Clock;
  logger: FastifyBaseLogger;
  events: EventLog;
  jobs: JobQueue;
  cursors: CursorCodec;
}

export interface LearningDeps {
  identity: { users: UsersDirectory };
}

/** Courses, lessons, enrollments, quizzes and attempts, progress and certificates. */
export async function createLearningModule(core: LearningCore, deps: LearningDeps): Promise<LearningModule> {
  const { database, clock, events, cursors } = core;
  const { db } = database;
  const context = { database, clock, events, cursors, users: deps.identity.users };
  const courses = createCourseService(context);
  const activity = createActivity({ db, clock, events, users: deps.identity.users });
  const progress = createProgressService({ ...context, courses, activity });
  const enrollments = createEnrollmentService({ ...context, courses, progressOf: progress.compute });
  const quizzes = createQuizService({ ...context, courses, jobs: core.jobs, onGraded: progress.checkCompletion, activity });
  const goals = createGoalService({ ...context, courses, activity, progressOf: progress.compute });
  const invitations = createInvitationService({ ...context, courses, enrollments, ttlDays: core.config.learning.invitationTtlDays });
  const gradebook = createGradebookService({ ...context, courses, progress });
  const itemAnalysis = createItemAnalysisService({ database, quizzes });
  const statements = createStatementService({ events, cursors, publicUrl: core.config.publicUrl });
  const repo = () => learningRepo(db, database.dialect.name);

  const membership: CourseMembership = {
    async roleIn(courseId, userId) {
      const course = await repo().findCourse(courseId);
      if (!course) return null;
      if (course.owner_id === userId || (await repo().isCoTeacher(courseId, userId))) return 'staff';
      const enrollment = await repo().findEnrollment(courseId, userId);
      return enrollment?.status === 'active' ? 'student' : null;
    },
    async memberIds(courseId) {
      const course = await repo().findCourse(courseId);
      if (!course) return [];
      const teachers = (await repo().coTeachers([courseId])).get(courseId) ?? [];
      return [...new Set([course.owner_id, ...teachers, ...(await repo().activeStudentIds(courseId))])];
    },
    async title(courseId) {
      return (await repo().findCourse(courseId))?.title ?? null;
    },
    courseIdsOf: (userId) => repo().courseIdsOf(userId),
  };

  const courseApi = courseRoutes(courses);
  const enrollmentApi = enrollmentRoutes(enrollments);
  const quizApi = quizRoutes(quizzes);
  const progressApi = progressRoutes(progress);
  const goalApi = goalRoutes(goals);
  const invitationApi = invitationRoutes(invitations);
  const gradebookApi = gradebookRoutes(gradebook);
  const itemAnalysisApi = itemAnalysisRoutes(itemAnalysis);
  const statementApi = statementRoutes(statements);

  return defineModule({
    name: 'learning',
    migrations: new URL('./migrations/', import.meta.url),
    membership,
    courses,
    enrollments,
    quizzes,
    progress,
    goals,
    invitations,
    gradebook,
    itemAnalysis,
    statements,
    routes: async (app) => {
      await progressApi(app);
      await goalApi(app);
      await courseApi(app);
      await enrollmentApi(app);
      await invitationApi(app);
      await gradebookApi(app);
      await itemAnalysisApi(app);
      await statementApi(app);
      await quizApi(app);
    },
    jobs: {
      // Enqueued at each timed attempt's deadline; submits it if the student has not.
      [AUTOSUBMIT_JOB]: { handle: async (job: { payload: { attemptId: string } }) => void (await quizzes.autoSubmit(job.payload.attemptId)) },
      // Ends study sessions whose last heartbeat is older than the bound, at that heartbeat.
      [CLOSE_ABANDONED_JOB]: { handle: async () => void (await goals.closeAbandoned()) },
    },
    schedules: [{ name: CLOSE_ABANDONED_JOB, cron: '*/5 * * * *', job: CLOSE_ABANDONED_JOB }],
    rooms: {
      // Course events reach its teachers, its active students and administrators.
      course: async (principal, id) => isCourseAdmin(principal) || (await membership.roleIn(id, principal.userId)) !== null,
    },
  });
}
