import { AppError, CoreErrors } from '../../core/http/problem.js';

/** Every error code the community module answers with. Clients branch on these, never on the text. */
export const CommunityErrors = {
  COMMUNITY_POST_NOT_FOUND: 'COMMUNITY_POST_NOT_FOUND',
  COMMUNITY_COMMENT_NOT_FOUND: 'COMMUNITY_COMMENT_NOT_FOUND',
  COMMUNITY_USER_NOT_FOUND: 'COMMUNITY_USER_NOT_FOUND',
  COMMUNITY_COURSE_NOT_FOUND: 'COMMUNITY_COURSE_NOT_FOUND',
  COMMUNITY_PARENT_NOT_FOUND: 'COMMUNITY_PARENT_NOT_FOUND',
  COMMUNITY_REPLY_TOO_DEEP: 'COMMUNITY_REPLY_TOO_DEEP',
  COMMUNITY_COURSE_REQUIRED: 'COMMUNITY_COURSE_REQUIRED',
  COMMUNITY_COURSES_UNAVAILABLE: 'COMMUNITY_COURSES_UNAVAILABLE',
  COMMUNITY_MENTION_UNKNOWN: 'COMMUNITY_MENTION_UNKNOWN',
  COMMUNITY_CANNOT_FOLLOW_SELF: 'COMMUNITY_CANNOT_FOLLOW_SELF',
  COMMUNITY_NOT_A_COURSE_POST: 'COMMUNITY_NOT_A_COURSE_POST',
  COMMUNITY_REPORT_NOT_FOUND: 'COMMUNITY_REPORT_NOT_FOUND',
  COMMUNITY_REASON_REQUIRED: 'COMMUNITY_REASON_REQUIRED',
  COMMUNITY_CANNOT_BLOCK_SELF: 'COMMUNITY_CANNOT_BLOCK_SELF',
  COMMUNITY_USER_BLOCKED: 'COMMUNITY_USER_BLOCKED',
  /** Core's code, so that clients (and the authorization matrix) read it as "not allowed". */
  FORBIDDEN: CoreErrors.FORBIDDEN,
} as const;

export type CommunityErrorCode = (typeof CommunityErrors)[keyof typeof CommunityErrors];

export const postNotFound = () => new AppError(404, CommunityErrors.COMMUNITY_POST_NOT_FOUND, 'No such post.');
export const commentNotFound = () => new AppError(404, CommunityErrors.COMMUNITY_COMMENT_NOT_FOUND, 'No such comment.');
export const reportNotFound = () => new AppError(404, CommunityErrors.COMMUNITY_REPORT_NOT_FOUND, 'No such report, or not one you moderate.');
export const userNotFound = () => new AppError(404, CommunityErrors.COMMUNITY_USER_NOT_FOUND, 'No such user.');
export const courseNotFound = () => new AppError(404, CommunityErrors.COMMUNITY_COURSE_NOT_FOUND, 'No such course, or you are not a member of it.');
export const notAuthor = (what: string) => new AppError(403, CommunityErrors.FORBIDDEN, `Only the author may change this ${what}.`);
export const invalid = (code: CommunityErrorCode, path: string, message: string) =>
  new AppError(422, code, message, { errors: [{ path, message }] });
