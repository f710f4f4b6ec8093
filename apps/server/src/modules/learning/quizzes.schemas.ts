import { Type, type Static } from '@sinclair/typebox';
import { PageQuery } from '../../core/http/pagination.js';

const DateTime = Type.String({ format: 'date-time', maxLength: 40 });
const Title = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const ItemId = Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_-]+$', description: 'Your id for this option, unique within the question.' });
const ItemText = Type.String({ minLength: 1, maxLength: 1000 });
const Item = Type.Object({ id: ItemId, text: ItemText }, { additionalProperties: false });
const ItemOut = Type.Object({ id: Type.String(), text: Type.String() }, { additionalProperties: false });

export const FEEDBACK_LEVELS = ['none', 'correctness', 'answers', 'explanations'] as const;
export const Feedback = Type.Union(FEEDBACK_LEVELS.map((f) => Type.Literal(f)), {
  description: 'What a student sees after submitting: `none` (the score only), `correctness` (per question: right or wrong, points), `answers` (+ the correct answers), `explanations` (+ the explanations).',
});
export const QUESTION_TYPES = ['single', 'multiple', 'true_false', 'short_text', 'numeric', 'ordering', 'matching', 'free_text'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
export const QuestionTypeSchema = Type.Union(QUESTION_TYPES.map((t) => Type.Literal(t)));

const quizFields = {
  description: Type.String({ maxLength: 20_000, description: 'Markdown.' }),
  lessonId: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], { description: 'A lesson of the same course this quiz belongs to.' }),
  status: Type.Union([Type.Literal('draft'), Type.Literal('published')]),
  timeLimitSeconds: Type.Union([Type.Integer({ minimum: 10, maximum: 86_400 }), Type.Null()]),
  maxAttempts: Type.Union([Type.Integer({ minimum: 1, maximum: 100 }), Type.Null()]),
  passingScore: Type.Integer({ minimum: 0, maximum: 100, description: 'Percent of the maximum score needed to pass.' }),
  opensAt: Type.Union([DateTime, Type.Null()]),
  closesAt: Type.Union([DateTime, Type.Null()]),
  shuffleQuestions: Type.Boolean(),
  shuffleOptions: Type.Boolean(),
  feedback: Feedback,
  drawCount: Type.Union([Type.Integer({ minimum: 1, maximum: 500 }), Type.Null()], { description: 'Each attempt draws this many questions at random from the quiz’s questions (a bank); null: all.' }),
  required: Type.Boolean({ description: 'Must be passed to complete the course.' }),
};

export const Quiz = Type.Object(
  {
    id: Type.String(),
    courseId: Type.String(),
    lessonId: Type.Union([Type.String(), Type.Null()]),
    title: Type.String(),
    description: Type.String(),
    status: quizFields.status,
    timeLimitSeconds: Type.Union([Type.Integer(), Type.Null()]),
    maxAttempts: Type.Union([Type.Integer(), Type.Null()]),
    passingScore: Type.Integer(),
    opensAt: Type.Union([DateTime, Type.Null()]),
    closesAt: Type.Union([DateTime, Type.Null()]),
    shuffleQuestions: Type.Boolean(),
    shuffleOptions: Type.Boolean(),
    feedback: Feedback,
    drawCount: Type.Union([Type.Integer(), Type.Null()]),
    required: Type.Boolean(),
    questionCount: Type.Integer(),
    createdAt: DateTime,
    updatedAt: DateTime,
    version: Type.Integer(),
  },
  { $id: 'LearningQuiz', additionalProperties: false },
);
export type QuizView = Static<typeof Quiz>;

const optional = <T extends Record<string, import('@sinclair/typebox').TSchema>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: import('@sinclair/typebox').TOptional<T[K]> };

export const QuizCreate = Type.Object({ title: Title, ...optional(quizFields) }, { additionalProperties: false });
export type QuizCreate = Static<typeof QuizCreate>;
export const QuizPatch = Type.Object({ title: Type.Optional(Title), ...optional(quizFields) }, { additionalProperties: false, minProperties: 1 });
export type QuizPatch = Static<typeof QuizPatch>;

/** The question as its author writes it, answer key included. Which fields apply depends on `type`. */
const questionFields = {
  prompt: Type.String({ minLength: 1, maxLength: 10_000, description: 'Markdown.' }),
  points: Type.Integer({ minimum: 0, maximum: 1000, description: 'Default 1.' }),
  explanation: Type.String({ maxLength: 10_000 }),
  options: Type.Array(Item, { minItems: 2, maxItems: 20, description: '`single`, `multiple`: the choices. `ordering`: the items in their correct order.' }),
  correctOptionIds: Type.Array(ItemId, { minItems: 1, maxItems: 20, uniqueItems: true, description: '`single` (exactly one) and `multiple`.' }),
  correctBoolean: Type.Boolean({ description: '`true_false`.' }),
  acceptedAnswers: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 20, description: '`short_text`: accepted answers, or one pattern when `match` is `pattern`.' }),
  match: Type.Union([Type.Literal('exact'), Type.Literal('case_insensitive'), Type.Literal('pattern')], { description: '`short_text`; `pattern` is a regular expression matched against the whole answer (case-insensitive), 200 characters at most, without nested quantifiers or back-references.' }),
  correctNumber: Type.Number({ minimum: -1e12, maximum: 1e12, description: '`numeric`.' }),
  tolerance: Type.Number({ minimum: 0, maximum: 1e12, description: '`numeric`: accepted distance from the correct number (default 0).' }),
  pairs: Type.Array(Type.Object({ left: Item, right: Item }, { additionalProperties: false }), { minItems: 2, maxItems: 20, description: '`matching`: the correct pairs.' }),
};

export const QuestionCreate = Type.Object({ type: QuestionTypeSchema, ...optional(questionFields), prompt: questionFields.prompt }, { additionalProperties: false });
export type QuestionCreate = Static<typeof QuestionCreate>;
export const QuestionPatch = Type.Object(
  {
    ...optional(questionFields),
    position: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type QuestionPatch = Static<typeof QuestionPatch>;

/** The staff view of a question: everything, answer key included. */
export const Question = Type.Object(
  {
    id: Type.String(),
    quizId: Type.String(),
    position: Type.Integer(),
    type: QuestionTypeSchema,
    prompt: Type.String(),
    points: Type.Integer(),
    explanation: Type.String(),
    options: Type.Optional(Type.Array(ItemOut)),
    correctOptionIds: Type.Optional(Type.Array(Type.String())),
    correctBoolean: Type.Optional(Type.Boolean()),
    acceptedAnswers: Type.Optional(Type.Array(Type.String())),
    match: Type.Optional(Type.String()),
    correctNumber: Type.Optional(Type.Number()),
    tolerance: Type.Optional(Type.Number()),
    pairs: Type.Optional(Type.Array(Type.Object({ left: ItemOut, right: ItemOut }, { additionalProperties: false }))),
    version: Type.Integer(),
  },
  { $id: 'LearningQuestion', additionalProperties: false },
);
export type QuestionView = Static<typeof Question>;

/** A student's answer to one question; the fields used depend on the question's type. */
export const Response = Type.Object(
  {
    optionId: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: '`single`.' })),
    optionIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 20, uniqueItems: true, description: '`multiple`.' })),
    value: Type.Optional(Type.Union([Type.Boolean(), Type.Number({ minimum: -1e12, maximum: 1e12 })], { description: '`true_false` (boolean), `numeric` (number).' })),
    text: Type.Optional(Type.String({ maxLength: 20_000, description: '`short_text` (500 characters at most), `free_text`.' })),
    order: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 20, uniqueItems: true, description: '`ordering`: item ids in your order.' })),
    matches: Type.Optional(
      Type.Array(Type.Object({ leftId: Type.String({ minLength: 1, maxLength: 40 }), rightId: Type.String({ minLength: 1, maxLength: 40 }) }, { additionalProperties: false }), {
        maxItems: 20,
        description: '`matching`.',
      }),
    ),
  },
  { $id: 'LearningResponse', additionalProperties: false },
);
export type ResponseValue = Static<typeof Response>;

export const AttemptQuestion = Type.Object(
  {
    id: Type.String(),
    type: QuestionTypeSchema,
    prompt: Type.String(),
    points: Type.Integer(),
    options: Type.Optional(Type.Array(ItemOut, { description: 'Choices, or the items to order.' })),
    left: Type.Optional(Type.Array(ItemOut, { description: '`matching`: items to match…' })),
    right: Type.Optional(Type.Array(ItemOut, { description: '`matching`: …with these.' })),
    answer: Type.Union([Type.Ref(Response), Type.Null()]),
    result: Type.Optional(
      Type.Object(
        {
          correct: Type.Union([Type.Boolean(), Type.Null()], { description: 'Null while a teacher has not graded it.' }),
          points: Type.Union([Type.Number(), Type.Null()]),
          correctAnswer: Type.Optional(Type.Ref(Response)),
          explanation: Type.Optional(Type.String()),
          comment: Type.Optional(Type.String({ description: 'The grader’s comment.' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const Attempt = Type.Object(
  {
    id: Type.String(),
    quizId: Type.String(),
    courseId: Type.String(),
    userId: Type.String(),
    number: Type.Integer(),
    status: Type.Union([Type.Literal('open'), Type.Literal('submitted'), Type.Literal('graded')], { description: '`submitted`: waiting for a teacher to grade free-text answers.' }),
    startedAt: DateTime,
    deadlineAt: Type.Union([DateTime, Type.Null()]),
    submittedAt: Type.Union([DateTime, Type.Null()]),
    score: Type.Union([Type.Number(), Type.Null()]),
    maxScore: Type.Number(),
    passed: Type.Union([Type.Boolean(), Type.Null()]),
    questions: Type.Array(AttemptQuestion),
    version: Type.Integer(),
  },
  { $id: 'LearningAttempt', additionalProperties: false },
);
export type AttemptView = Static<typeof Attempt>;

export const AttemptSummary = Type.Object(
  {
    id: Type.String(),
    quizId: Type.String(),
    userId: Type.String(),
    number: Type.Integer(),
    status: Type.Union([Type.Literal('open'), Type.Literal('submitted'), Type.Literal('graded')]),
    startedAt: DateTime,
    deadlineAt: Type.Union([DateTime, Type.Null()]),
    submittedAt: Type.Union([DateTime, Type.Null()]),
    score: Type.Union([Type.Number(), Type.Null()]),
    maxScore: Type.Number(),
    passed: Type.Union([Type.Boolean(), Type.Null()]),
  },
  { $id: 'LearningAttemptSummary', additionalProperties: false },
);
export type AttemptSummaryView = Static<typeof AttemptSummary>;

export const AnswersPatch = Type.Object(
  {
    answers: Type.Array(
      Type.Object(
        {
          questionId: Type.String({ minLength: 1, maxLength: 64 }),
          response: Type.Ref(Response),
          clientTimestamp: Type.Optional(Type.String({ format: 'date-time', maxLength: 40, description: 'When the student answered; an answer older than the stored one is ignored.' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);
export type AnswersPatch = Static<typeof AnswersPatch>;

export const SubmitBody = Type.Union(
  [Type.Object({ answers: AnswersPatch.properties.answers }, { additionalProperties: false }), Type.Null()],
  { description: 'Optional: answers to save before scoring, by the same rules as PATCH /attempts/{id}. A student who answers offline hands in the whole attempt in one request.' },
);
export type SubmitBody = Static<typeof SubmitBody>;

export const GradeBody = Type.Object(
  {
    grades: Type.Array(
      Type.Object(
        {
          questionId: Type.String({ minLength: 1, maxLength: 64 }),
          points: Type.Number({ minimum: 0, maximum: 1000 }),
          comment: Type.Optional(Type.String({ maxLength: 5000 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);
export type GradeBody = Static<typeof GradeBody>;

export const AttemptQuery = Type.Object(
  { ...PageQuery.properties, userId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Staff: one student’s attempts. Students always see their own.' })) },
  { additionalProperties: false },
);
export type AttemptQuery = Static<typeof AttemptQuery>;
export const QuizQuery = Type.Object({ ...PageQuery.properties }, { additionalProperties: false });
