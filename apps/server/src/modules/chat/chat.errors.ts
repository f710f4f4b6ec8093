import { AppError, CoreErrors } from '../../core/http/problem.js';

/** Every error code the chat module answers with. Clients branch on these, never on the text. */
export const ChatErrors = {
  CHAT_CONVERSATION_NOT_FOUND: 'CHAT_CONVERSATION_NOT_FOUND',
  CHAT_MESSAGE_NOT_FOUND: 'CHAT_MESSAGE_NOT_FOUND',
  CHAT_MEMBER_NOT_FOUND: 'CHAT_MEMBER_NOT_FOUND',
  CHAT_REACTION_NOT_FOUND: 'CHAT_REACTION_NOT_FOUND',
  CHAT_USER_NOT_FOUND: 'CHAT_USER_NOT_FOUND',
  CHAT_COURSE_NOT_FOUND: 'CHAT_COURSE_NOT_FOUND',
  CHAT_REPLY_NOT_FOUND: 'CHAT_REPLY_NOT_FOUND',
  CHAT_ALREADY_MEMBER: 'CHAT_ALREADY_MEMBER',
  CHAT_NOT_A_GROUP: 'CHAT_NOT_A_GROUP',
  CHAT_DIRECT_WITH_SELF: 'CHAT_DIRECT_WITH_SELF',
  CHAT_MESSAGE_DELETED: 'CHAT_MESSAGE_DELETED',
  CHAT_TOO_MANY_EDITS: 'CHAT_TOO_MANY_EDITS',
  CHAT_ALREADY_REPORTED: 'CHAT_ALREADY_REPORTED',
  CHAT_OWNER_CANNOT_BE_CHANGED: 'CHAT_OWNER_CANNOT_BE_CHANGED',
  CHAT_RATE_LIMITED: 'CHAT_RATE_LIMITED',
  CHAT_BLOCKED: 'CHAT_BLOCKED',
  CHAT_BLOCK_NOT_FOUND: 'CHAT_BLOCK_NOT_FOUND',
  /** A member without the role an action needs (core's code, so every client treats it alike). */
  FORBIDDEN: CoreErrors.FORBIDDEN,
  PRECONDITION_FAILED: CoreErrors.PRECONDITION_FAILED,
} as const;

export type ChatErrorCode = (typeof ChatErrors)[keyof typeof ChatErrors];

/** 404 also for conversations that exist but the caller is not a member of. */
export const conversationNotFound = () => new AppError(404, ChatErrors.CHAT_CONVERSATION_NOT_FOUND, 'No such conversation.');
export const messageNotFound = () => new AppError(404, ChatErrors.CHAT_MESSAGE_NOT_FOUND, 'No such message.');
export const memberNotFound = () => new AppError(404, ChatErrors.CHAT_MEMBER_NOT_FOUND, 'No such member.');
export const forbidden = (detail: string) => new AppError(403, ChatErrors.FORBIDDEN, detail);
export const usersNotFound = (path: string, ids: string[]) =>
  new AppError(422, ChatErrors.CHAT_USER_NOT_FOUND, `No such user: ${ids.join(', ')}.`, { errors: ids.map(() => ({ path, message: 'no such user' })) });
export const notAGroup = () => new AppError(409, ChatErrors.CHAT_NOT_A_GROUP, 'Only group conversations have a title and managed members.');
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError(429, ChatErrors.CHAT_RATE_LIMITED, 'You are sending messages too fast; wait a moment.', { headers: { 'retry-after': String(retryAfterSeconds) } });
