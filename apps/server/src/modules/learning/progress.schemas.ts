import { Type, type Static } from '@sinclair/typebox';

const DateTime = Type.String({ format: 'date-time', maxLength: 40 });

export const QuizProgress = Type.Object(
  {
    quizId: Type.String(),
    title: Type.String(),
    required: Type.Boolean(),
    attempts: Type.Integer(),
    bestScore: Type.Union([Type.Number(), Type.Null()]),
    lastScore: Type.Union([Type.Number(), Type.Null()]),
    maxScore: Type.Union([Type.Number(), Type.Null()]),
    passed: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** One student's progress in one course: the numbers `GET /me/progress` and the roster both show. */
export const CourseProgress = Type.Object(
  {
    courseId: Type.String(),
    courseTitle: Type.String(),
    lessonsCompleted: Type.Integer({ description: 'Required published lessons completed.' }),
    lessonsRequired: Type.Integer(),
    quizzesPassed: Type.Integer({ description: 'Required published quizzes passed.' }),
    quizzesRequired: Type.Integer(),
    percent: Type.Integer({ description: 'Share of required lessons and quizzes done, 0–100.' }),
    minutesOfLessonsCompleted: Type.Integer(),
    minutesStudied: Type.Integer({ description: 'Time counted by ended study sessions for this course, in whole minutes.' }),
    completed: Type.Boolean(),
    certificateCode: Type.Union([Type.String(), Type.Null()]),
    completedAt: Type.Union([DateTime, Type.Null()]),
    quizzes: Type.Array(QuizProgress),
  },
  { $id: 'LearningCourseProgress', additionalProperties: false },
);
export type CourseProgressView = Static<typeof CourseProgress>;

export const Certificate = Type.Object(
  {
    code: Type.String(),
    courseId: Type.String(),
    courseTitle: Type.String(),
    userId: Type.String(),
    displayName: Type.Union([Type.String(), Type.Null()]),
    issuedAt: DateTime,
  },
  { $id: 'LearningCertificate', additionalProperties: false },
);
export type CertificateView = Static<typeof Certificate>;

export const CodeParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
