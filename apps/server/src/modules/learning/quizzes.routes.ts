import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { expectedVersion, setEtag } from '../../core/http/etag.js';
import { Page } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import { IdParams } from './learning.schemas.js';
import {
  AnswersPatch,
  Attempt,
  AttemptQuery,
  AttemptSummary,
  GradeBody,
  Question,
  QuestionCreate,
  QuestionPatch,
  Quiz,
  QuizCreate,
  QuizPatch,
  QuizQuery,
  Response,
  SubmitBody,
} from './quizzes.schemas.js';
import type { QuizService } from './quizzes.service.js';

const quizTags = ['quizzes'];
const attemptTags = ['attempts'];
const teach = { permission: 'course:create' } as const;
const take = { permission: 'course:enroll' } as const;
const grade = { permission: 'course:grade' } as const;

/** Quizzes, their questions, attempts, answers, submission and grading. */
export function quizRoutes(quizzes: QuizService) {
  return async (app: AppInstance) => {
    app.addSchema(Quiz);
    app.addSchema(Question);
    app.addSchema(Response);
    app.addSchema(Attempt);
    app.addSchema(AttemptSummary);

    app.get(
      '/courses/:id/quizzes',
      {
        config: { access: 'public' },
        schema: { tags: quizTags, summary: 'List a course’s quizzes', description: 'Published ones for whoever may see the course’s lessons; drafts too for its teachers.', params: IdParams, querystring: QuizQuery, response: { 200: Page(Type.Ref(Quiz)) } },
      },
      async (request) => quizzes.listQuizzes(request.principal, request.params.id, request.query),
    );

    app.post(
      '/courses/:id/quizzes',
      { config: { access: teach }, schema: { tags: quizTags, summary: 'Create a quiz', description: 'Course teachers and administrators. Starts as a draft.', params: IdParams, body: QuizCreate, response: { 201: Type.Ref(Quiz) } } },
      async (request, reply) => {
        const quiz = await quizzes.createQuiz(requirePrincipal(request), request.params.id, request.body);
        setEtag(reply, quiz.version);
        return reply.code(201).header('location', `/api/v1/quizzes/${quiz.id}`).send(quiz);
      },
    );

    app.get(
      '/quizzes/:id',
      { config: { access: 'public' }, schema: { tags: quizTags, summary: 'Read a quiz (its settings)', params: IdParams, response: { 200: Type.Ref(Quiz) } } },
      async (request, reply) => {
        const quiz = await quizzes.getQuiz(request.principal, request.params.id);
        setEtag(reply, quiz.version);
        return quiz;
      },
    );

    app.patch(
      '/quizzes/:id',
      { config: { access: teach }, schema: { tags: quizTags, summary: 'Change a quiz', description: 'Course teachers and administrators. Accepts If-Match.', params: IdParams, body: QuizPatch, response: { 200: Type.Ref(Quiz) } } },
      async (request, reply) => {
        const quiz = await quizzes.updateQuiz(requirePrincipal(request), request.params.id, expectedVersion(request), request.body);
        setEtag(reply, quiz.version);
        return quiz;
      },
    );

    app.delete(
      '/quizzes/:id',
      { config: { access: teach }, schema: { tags: quizTags, summary: 'Delete a quiz', description: 'Refused (409) once students have attempted it. Accepts If-Match.', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await quizzes.deleteQuiz(requirePrincipal(request), request.params.id, expectedVersion(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/quizzes/:id/questions',
      {
        config: { access: teach },
        schema: { tags: quizTags, summary: 'List a quiz’s questions with their answer keys', description: 'Course teachers and administrators only; students see questions through their attempts.', params: IdParams, response: { 200: Type.Object({ items: Type.Array(Type.Ref(Question)) }, { additionalProperties: false }) } },
      },
      async (request) => quizzes.listQuestions(requirePrincipal(request), request.params.id),
    );

    app.post(
      '/quizzes/:id/questions',
      { config: { access: teach }, schema: { tags: quizTags, summary: 'Add a question', description: 'See docs/learning.md for each type’s fields.', params: IdParams, body: QuestionCreate, response: { 201: Type.Ref(Question) } } },
      async (request, reply) => {
        const question = await quizzes.createQuestion(requirePrincipal(request), request.params.id, request.body);
        setEtag(reply, question.version);
        return reply.code(201).header('location', `/api/v1/questions/${question.id}`).send(question);
      },
    );

    app.patch(
      '/questions/:id',
      {
        config: { access: teach },
        schema: { tags: quizTags, summary: 'Correct or move a question', description: 'A changed answer key or points regrades every submitted attempt that has the question. Accepts If-Match.', params: IdParams, body: QuestionPatch, response: { 200: Type.Ref(Question) } },
      },
      async (request, reply) => {
        const question = await quizzes.updateQuestion(requirePrincipal(request), request.params.id, expectedVersion(request), request.body);
        setEtag(reply, question.version);
        return question;
      },
    );

    app.delete(
      '/questions/:id',
      { config: { access: teach }, schema: { tags: quizTags, summary: 'Delete a question', description: 'Refused (409) once the quiz has attempts. Accepts If-Match.', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await quizzes.deleteQuestion(requirePrincipal(request), request.params.id, expectedVersion(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/quizzes/:id/attempts',
      {
        config: { access: take },
        schema: {
          tags: attemptTags,
          summary: 'Start an attempt',
          description: 'Active students (and the course’s teachers, to try it). One open attempt per student and quiz (409 LEARNING_ATTEMPT_OPEN). The deadline is the time limit or the quiz’s closing time, whichever comes first; the attempt is submitted automatically then. Questions come without answer keys.',
          params: IdParams,
          response: { 201: Type.Ref(Attempt) },
        },
      },
      async (request, reply) => {
        const attempt = await quizzes.start(requirePrincipal(request), request.params.id);
        setEtag(reply, attempt.version);
        return reply.code(201).header('location', `/api/v1/attempts/${attempt.id}`).send(attempt);
      },
    );

    app.get(
      '/quizzes/:id/attempts',
      { config: { access: take }, schema: { tags: attemptTags, summary: 'List attempts', description: 'Your own; the course’s teachers see everyone’s (filter `userId`).', params: IdParams, querystring: AttemptQuery, response: { 200: Page(Type.Ref(AttemptSummary)) } } },
      async (request) => quizzes.listAttempts(requirePrincipal(request), request.params.id, request.query),
    );

    app.get(
      '/attempts/:id',
      { config: { access: take }, schema: { tags: attemptTags, summary: 'Read an attempt', description: 'Yours, or any in a course you teach. After submission, with feedback as the quiz allows.', params: IdParams, response: { 200: Type.Ref(Attempt) } } },
      async (request, reply) => {
        const attempt = await quizzes.getAttempt(requirePrincipal(request), request.params.id);
        setEtag(reply, attempt.version);
        return attempt;
      },
    );

    app.patch(
      '/attempts/:id',
      {
        config: { access: take },
        schema: {
          tags: attemptTags,
          summary: 'Save answers',
          description: 'Idempotent per question: an answer replaces the previous one, unless its `clientTimestamp` is older than the stored one’s. After the deadline: 409 LEARNING_ATTEMPT_CLOSED (the attempt is submitted).',
          params: IdParams,
          body: AnswersPatch,
          response: { 200: Type.Ref(Attempt) },
        },
      },
      async (request, reply) => {
        const attempt = await quizzes.saveAnswers(requirePrincipal(request), request.params.id, request.body);
        setEtag(reply, attempt.version);
        return attempt;
      },
    );

    app.post(
      '/attempts/:id/submit',
      {
        config: { access: take },
        schema: {
          tags: attemptTags,
          summary: 'Submit an attempt',
          description:
            'Scores it on the server. The body is optional: answers sent with it are saved first, in the same transaction, by the rules of PATCH /attempts/{id}, so a whole attempt can be handed in with one request. Submitting again returns the result (answers sent then are not applied). After the deadline, answers sent with it are refused with 409 LEARNING_ATTEMPT_CLOSED and the attempt is submitted with its stored answers.',
          params: IdParams,
          body: SubmitBody,
          response: { 200: Type.Ref(Attempt) },
        },
      },
      async (request, reply) => {
        const attempt = await quizzes.submit(requirePrincipal(request), request.params.id, request.body?.answers);
        setEtag(reply, attempt.version);
        return attempt;
      },
    );

    app.post(
      '/attempts/:id/grade',
      {
        config: { access: grade },
        schema: { tags: attemptTags, summary: 'Grade free-text answers', description: 'Course teachers and administrators. The attempt is graded once no free-text answer is left.', params: IdParams, body: GradeBody, response: { 200: Type.Ref(Attempt) } },
      },
      async (request, reply) => {
        const attempt = await quizzes.grade(requirePrincipal(request), request.params.id, request.body);
        setEtag(reply, attempt.version);
        return attempt;
      },
    );
  };
}
