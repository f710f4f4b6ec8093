import { Type, type Static } from '@sinclair/typebox';

const DateTime = Type.String({ format: 'date-time', maxLength: 40 });

export const GradebookRow = Type.Object(
  {
    userId: Type.String(),
    displayName: Type.Union([Type.String(), Type.Null()]),
    quizzes: Type.Array(
      Type.Object(
        {
          quizId: Type.String(),
          bestScore: Type.Union([Type.Number(), Type.Null()], { description: 'Best graded score, as in GET /me/progress; null before a graded attempt.' }),
          maxScore: Type.Union([Type.Number(), Type.Null()]),
          attempts: Type.Integer({ description: 'Graded attempts.' }),
          passed: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
    ),
    percent: Type.Integer({ description: 'Share of required lessons and quizzes done, 0–100.' }),
    completed: Type.Boolean(),
    completedAt: Type.Union([DateTime, Type.Null()]),
  },
  { $id: 'LearningGradebookRow', additionalProperties: false },
);
export type GradebookRowView = Static<typeof GradebookRow>;

export const Gradebook = Type.Object(
  {
    courseId: Type.String(),
    courseTitle: Type.String(),
    quizzes: Type.Array(Type.Object({ quizId: Type.String(), title: Type.String() }, { additionalProperties: false }), { description: 'The published quizzes: the columns, in order.' }),
    students: Type.Array(Type.Ref(GradebookRow), { description: 'One per active student, in enrollment order.' }),
  },
  { additionalProperties: false },
);
