import { Type, type Static } from '@sinclair/typebox';
import { PageQuery } from '../../core/http/pagination.js';

const DateTime = Type.String({ format: 'date-time', maxLength: 40 });
const Id = Type.String({ minLength: 1, maxLength: 64 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const GOAL_KINDS = ['course_by_date', 'minutes_per_week', 'lessons_per_week'] as const;
export const GoalKind = Type.Union(GOAL_KINDS.map((k) => Type.Literal(k)), {
  description: '`course_by_date`: finish `courseId` by `dueAt`. `minutes_per_week`: study `target` minutes each week. `lessons_per_week`: complete `target` lessons each week.',
});
export const GoalStatus = Type.Union([Type.Literal('active'), Type.Literal('achieved'), Type.Literal('missed')]);

export const GoalProgress = Type.Object(
  {
    value: Type.Integer({ description: 'Course percent, minutes studied or lessons completed (this week for weekly goals).' }),
    target: Type.Integer(),
    unit: Type.Union([Type.Literal('percent'), Type.Literal('minutes'), Type.Literal('lessons')]),
    percent: Type.Integer({ description: 'value / target, 0–100.' }),
    periodStart: Nullable({ ...DateTime, description: 'Weekly goals: this week’s Monday 00:00 in the learner’s time zone (`GET /me`; UTC when unset).' }),
    periodEnd: Nullable({ ...DateTime, description: 'Weekly goals: the next Monday 00:00 there; course goals: `dueAt`.' }),
  },
  { additionalProperties: false },
);

export const Goal = Type.Object(
  {
    id: Type.String(),
    kind: GoalKind,
    title: Type.String(),
    courseId: Nullable(Type.String()),
    target: Nullable(Type.Integer()),
    dueAt: Nullable(DateTime),
    status: GoalStatus,
    progress: GoalProgress,
    createdAt: DateTime,
    updatedAt: DateTime,
    version: Type.Integer(),
  },
  { $id: 'LearningGoal', additionalProperties: false },
);
export type GoalView = Static<typeof Goal>;

export const GoalCreate = Type.Object(
  {
    kind: GoalKind,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    courseId: Type.Optional(Id),
    target: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_080, description: 'Minutes or lessons per week (weekly goals only).' })),
    dueAt: Type.Optional(DateTime),
  },
  { additionalProperties: false },
);
export type GoalCreate = Static<typeof GoalCreate>;

export const GoalPatch = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    target: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_080 })),
    dueAt: Type.Optional(DateTime),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type GoalPatch = Static<typeof GoalPatch>;

export const GoalQuery = Type.Object({ ...PageQuery.properties }, { additionalProperties: false });

export const StudySession = Type.Object(
  {
    id: Type.String(),
    courseId: Nullable(Type.String()),
    lessonId: Nullable(Type.String()),
    startedAt: DateTime,
    lastHeartbeatAt: DateTime,
    endedAt: Nullable(DateTime),
    endReason: Nullable(Type.Union([Type.Literal('stopped'), Type.Literal('timeout'), Type.Literal('replaced'), Type.Literal('abandoned')])),
    active: Type.Boolean(),
    seconds: Type.Integer({ description: 'Counted time: start to end (or to the last heartbeat while active).' }),
    minutes: Type.Integer(),
    version: Type.Integer(),
  },
  { $id: 'LearningStudySession', additionalProperties: false },
);
export type StudySessionView = Static<typeof StudySession>;

export const SessionStart = Type.Object({ courseId: Type.Optional(Id), lessonId: Type.Optional(Id) }, { additionalProperties: false });
export type SessionStart = Static<typeof SessionStart>;
export const SessionQuery = Type.Object({ ...PageQuery.properties }, { additionalProperties: false });

export const Streak = Type.Object(
  {
    current: Type.Integer({ description: 'Consecutive days with activity, ending today or yesterday (days in `timeZone`).' }),
    longest: Type.Integer(),
    today: Type.String({ description: 'YYYY-MM-DD' }),
    lastActiveDay: Nullable(Type.String()),
    activeToday: Type.Boolean(),
    timeZone: Type.String({ description: 'The learner\'s time zone (`GET /me`), or `UTC` when none is set.' }),
  },
  { $id: 'LearningStreak', additionalProperties: false },
);

export const AchievementKind = Type.Union([Type.Literal('first_lesson'), Type.Literal('streak_7'), Type.Literal('perfect_score')]);
export const AchievementList = Type.Object(
  { items: Type.Array(Type.Object({ achievement: AchievementKind, awardedAt: DateTime }, { additionalProperties: false })) },
  { $id: 'LearningAchievements', additionalProperties: false },
);
