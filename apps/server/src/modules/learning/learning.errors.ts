import { AppError, CoreErrors } from '../../core/http/problem.js';

/** Every error code the learning module answers with. Clients branch on these, never on the text. */
export const LearningErrors = {
  LEARNING_COURSE_NOT_FOUND: 'LEARNING_COURSE_NOT_FOUND',
  LEARNING_LESSON_NOT_FOUND: 'LEARNING_LESSON_NOT_FOUND',
  LEARNING_ENROLLMENT_NOT_FOUND: 'LEARNING_ENROLLMENT_NOT_FOUND',
  LEARNING_SLUG_TAKEN: 'LEARNING_SLUG_TAKEN',
  LEARNING_INVALID: 'LEARNING_INVALID',
  LEARNING_NOT_A_TEACHER: 'LEARNING_NOT_A_TEACHER',
  LEARNING_COURSE_NOT_OPEN: 'LEARNING_COURSE_NOT_OPEN',
  LEARNING_ENROLLMENT_CLOSED: 'LEARNING_ENROLLMENT_CLOSED',
  LEARNING_COURSE_FULL: 'LEARNING_COURSE_FULL',
  LEARNING_ALREADY_ENROLLED: 'LEARNING_ALREADY_ENROLLED',
  LEARNING_ENROLLMENT_STATE: 'LEARNING_ENROLLMENT_STATE',
  LEARNING_COURSE_HAS_STUDENTS: 'LEARNING_COURSE_HAS_STUDENTS',
  LEARNING_QUIZ_NOT_FOUND: 'LEARNING_QUIZ_NOT_FOUND',
  LEARNING_QUESTION_NOT_FOUND: 'LEARNING_QUESTION_NOT_FOUND',
  LEARNING_ATTEMPT_NOT_FOUND: 'LEARNING_ATTEMPT_NOT_FOUND',
  LEARNING_QUIZ_NOT_OPEN: 'LEARNING_QUIZ_NOT_OPEN',
  LEARNING_QUIZ_EMPTY: 'LEARNING_QUIZ_EMPTY',
  LEARNING_QUIZ_HAS_ATTEMPTS: 'LEARNING_QUIZ_HAS_ATTEMPTS',
  LEARNING_ATTEMPT_OPEN: 'LEARNING_ATTEMPT_OPEN',
  LEARNING_NO_ATTEMPTS_LEFT: 'LEARNING_NO_ATTEMPTS_LEFT',
  LEARNING_ATTEMPT_CLOSED: 'LEARNING_ATTEMPT_CLOSED',
  LEARNING_PREREQUISITES: 'LEARNING_PREREQUISITES',
  LEARNING_CERTIFICATE_NOT_FOUND: 'LEARNING_CERTIFICATE_NOT_FOUND',
  LEARNING_GOAL_NOT_FOUND: 'LEARNING_GOAL_NOT_FOUND',
  LEARNING_SESSION_NOT_FOUND: 'LEARNING_SESSION_NOT_FOUND',
  LEARNING_SESSION_ENDED: 'LEARNING_SESSION_ENDED',
  LEARNING_INVITATION_NOT_FOUND: 'LEARNING_INVITATION_NOT_FOUND',
  LEARNING_ALREADY_INVITED: 'LEARNING_ALREADY_INVITED',
  LEARNING_INVITATION_STATE: 'LEARNING_INVITATION_STATE',
  LEARNING_INVITATION_EXPIRED: 'LEARNING_INVITATION_EXPIRED',
} as const;

export type LearningErrorCode = (typeof LearningErrors)[keyof typeof LearningErrors];

export const courseNotFound = () => new AppError(404, LearningErrors.LEARNING_COURSE_NOT_FOUND, 'No such course, or you may not see it.');
export const lessonNotFound = () => new AppError(404, LearningErrors.LEARNING_LESSON_NOT_FOUND, 'No such lesson, or you may not see it.');
export const enrollmentNotFound = () => new AppError(404, LearningErrors.LEARNING_ENROLLMENT_NOT_FOUND, 'No such enrollment, or you may not see it.');
/** The caller may see the resource but not do this (core's FORBIDDEN, like the access guard's refusals). */
export const forbidden = (detail: string) => new AppError(403, CoreErrors.FORBIDDEN, detail);
export const invalid = (detail: string, path?: string) =>
  new AppError(422, LearningErrors.LEARNING_INVALID, detail, path ? { errors: [{ path, message: detail }] } : {});
export const conflict = (code: LearningErrorCode, detail: string) => new AppError(409, code, detail);
export const quizNotFound = () => new AppError(404, LearningErrors.LEARNING_QUIZ_NOT_FOUND, 'No such quiz, or you may not see it.');
export const questionNotFound = () => new AppError(404, LearningErrors.LEARNING_QUESTION_NOT_FOUND, 'No such question, or you may not see it.');
export const attemptNotFound = () => new AppError(404, LearningErrors.LEARNING_ATTEMPT_NOT_FOUND, 'No such attempt, or you may not see it.');
export const goalNotFound = () => new AppError(404, LearningErrors.LEARNING_GOAL_NOT_FOUND, 'No such goal, or it is not yours.');
export const sessionNotFound = () => new AppError(404, LearningErrors.LEARNING_SESSION_NOT_FOUND, 'No such study session, or it is not yours.');
export const invitationNotFound = () => new AppError(404, LearningErrors.LEARNING_INVITATION_NOT_FOUND, 'No such invitation, or it is not yours.');
