import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { expectedVersion, setEtag } from '../../core/http/etag.js';
import { Page } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import { AchievementList, Goal, GoalCreate, GoalPatch, GoalQuery, SessionQuery, SessionStart, Streak, StudySession } from './goals.schemas.js';
import type { GoalService } from './goals.service.js';
import { IdParams } from './learning.schemas.js';

const tags = ['goals'];
const own = { permission: 'course:enroll' } as const;

/** The caller's learning goals, study sessions, streak and achievements. */
export function goalRoutes(goals: GoalService) {
  return async (app: AppInstance) => {
    app.addSchema(Goal);
    app.addSchema(StudySession);
    app.addSchema(Streak);
    app.addSchema(AchievementList);

    app.post(
      '/learning/goals',
      {
        config: { access: own },
        schema: {
          tags,
          summary: 'Set a learning goal',
          description: '`course_by_date` needs `courseId` (a course you may see) and `dueAt`; `minutes_per_week` and `lessons_per_week` need `target` and may name a `courseId` to count only that course. 422 LEARNING_INVALID otherwise.',
          body: GoalCreate,
          response: { 201: Type.Ref(Goal) },
        },
      },
      async (request, reply) => {
        const goal = await goals.createGoal(requirePrincipal(request), request.body);
        setEtag(reply, goal.version);
        return reply.code(201).header('location', `/api/v1/learning/goals/${goal.id}`).send(goal);
      },
    );

    app.get(
      '/learning/goals',
      { config: { access: own }, schema: { tags, summary: 'My goals, newest first', description: 'Each with its computed progress and status.', querystring: GoalQuery, response: { 200: Page(Type.Ref(Goal)) } } },
      async (request) => goals.listGoals(requirePrincipal(request), request.query),
    );

    app.get(
      '/learning/goals/:id',
      { config: { access: own }, schema: { tags, summary: 'Read one of my goals', description: 'Another user’s goal is 404 LEARNING_GOAL_NOT_FOUND.', params: IdParams, response: { 200: Type.Ref(Goal) } } },
      async (request, reply) => {
        const goal = await goals.getGoal(requirePrincipal(request), request.params.id);
        setEtag(reply, goal.version);
        return goal;
      },
    );

    app.patch(
      '/learning/goals/:id',
      { config: { access: own }, schema: { tags, summary: 'Change one of my goals', description: 'Title; target (weekly goals); dueAt (course goals). Accepts If-Match.', params: IdParams, body: GoalPatch, response: { 200: Type.Ref(Goal) } } },
      async (request, reply) => {
        const goal = await goals.updateGoal(requirePrincipal(request), request.params.id, expectedVersion(request), request.body);
        setEtag(reply, goal.version);
        return goal;
      },
    );

    app.delete(
      '/learning/goals/:id',
      { config: { access: own }, schema: { tags, summary: 'Delete one of my goals', description: 'Accepts If-Match.', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await goals.deleteGoal(requirePrincipal(request), request.params.id, expectedVersion(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/learning/sessions',
      {
        config: { access: own },
        schema: {
          tags,
          summary: 'Start a study session',
          description: 'Optionally for a course or a lesson you may see (404 otherwise). Ends any session you still have open. Send a heartbeat at least every 5 minutes.',
          body: SessionStart,
          response: { 201: Type.Ref(StudySession) },
        },
      },
      async (request, reply) => {
        const session = await goals.startSession(requirePrincipal(request), request.body ?? {});
        return reply.code(201).header('location', `/api/v1/learning/sessions/${session.id}`).send(session);
      },
    );

    app.get(
      '/learning/sessions',
      { config: { access: own }, schema: { tags, summary: 'My study sessions, newest first', querystring: SessionQuery, response: { 200: Page(Type.Ref(StudySession)) } } },
      async (request) => goals.listSessions(requirePrincipal(request), request.query),
    );

    app.post(
      '/learning/sessions/:id/heartbeat',
      {
        config: { access: own },
        schema: { tags, summary: 'Keep a study session alive', description: 'After more than 5 minutes without one, the session has ended at the previous heartbeat: 409 LEARNING_SESSION_ENDED.', params: IdParams, response: { 200: Type.Ref(StudySession) } },
      },
      async (request) => goals.heartbeat(requirePrincipal(request), request.params.id),
    );

    app.post(
      '/learning/sessions/:id/stop',
      { config: { access: own }, schema: { tags, summary: 'Stop a study session', description: 'Idempotent. Counted up to now, or up to the last heartbeat when that is more than 5 minutes ago.', params: IdParams, response: { 200: Type.Ref(StudySession) } } },
      async (request) => goals.stopSession(requirePrincipal(request), request.params.id),
    );

    app.get(
      '/me/streak',
      { config: { access: own }, schema: { tags, summary: 'My learning streak', description: 'Consecutive days, in the learner\'s time zone (UTC when none is set), with a lesson completed, a quiz submitted or a study session of at least 10 minutes.', response: { 200: Type.Ref(Streak) } } },
      async (request) => goals.streak(requirePrincipal(request)),
    );

    app.get(
      '/me/achievements',
      { config: { access: own }, schema: { tags, summary: 'My achievements', description: '`first_lesson`, `streak_7`, `perfect_score`; each awarded once.', response: { 200: Type.Ref(AchievementList) } } },
      async (request) => goals.achievements(requirePrincipal(request)),
    );
  };
}
