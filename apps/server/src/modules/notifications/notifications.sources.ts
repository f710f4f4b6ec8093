import type { StoredEvent } from '../../core/events/types.js';
import type { Category } from './notifications.schemas.js';

/** What one event means for one recipient's inbox. */
export interface NotificationSpec {
  userId: string;
  category: Category;
  type: string;
  title: string;
  body: string;
  link: string;
  entity: { type: string; id: string };
  actorId: string | null;
  /** Unread entries with the same key fold into one; `groupTitle` has `{count}` for their number. */
  groupKey?: string;
  groupTitle?: string;
  /** Unique per event and recipient: the inbox never holds one event twice. */
  sourceKey: string;
  /** The event's log seq (0 when not from the log): orders the events a group folds in. */
  sourceSeq: number;
}

/** The event types the inbox listens to (other modules' events, and identity's security notices). */
export const SOURCE_TYPES = [
  'learning.enrollment.activated',
  'learning.attempt.graded',
  'learning.invitation.created',
  'chat.message.notify',
  'chat.mention.created',
  'community.comment.created',
  'community.mention.created',
  'community.reaction.created',
  'community.follow.created',
  'identity.session.revoked',
] as const;

/** Session endings that the account holder must hear about whatever their preferences. */
const SECURITY_REASONS: Record<string, string> = {
  'password-changed': 'Your password was changed, and your other sessions were signed out.',
  'password-reset': 'Your password was reset, and your sessions were signed out.',
  'refresh-reuse': 'A sign-in token of yours was used twice, so that session was ended for safety. If this was not you, change your password.',
  'account-claimed-by-sso': 'Your account was linked to single sign-on, and your sessions were signed out.',
};

const str = (v: unknown, max = 500): string => (typeof v === 'string' ? v.slice(0, max) : '');
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 128;
const quote = (s: string) => (s ? `“${s}”` : 'a quiz');

/** The people named in an event, whose display names the titles use. */
export function actorsOf(event: StoredEvent): string[] {
  const p = (event.payload ?? {}) as Record<string, unknown>;
  return [p.senderId, p.authorId, p.userId, p.followerId].filter(isId);
}

/**
 * Whether an event can mean anything to anyone but its actor, decided on the event alone: the
 * others cost no ingestion job. A student's own submission that was graded on the spot is not
 * news to them (the answer to the submission carries the score); a grade given by a teacher or
 * at the deadline is.
 */
export function concernsOthers(event: StoredEvent): boolean {
  if (event.type !== 'learning.attempt.graded') return true;
  return event.actorId == null || event.actorId !== (event.payload as { userId?: unknown } | null)?.userId;
}

/**
 * Turns an event into inbox entries. Unknown or malformed payloads give none (never an error: a
 * module may add fields or events before this one learns of them). Nobody is notified of their own act.
 */
export function specsOf(event: StoredEvent, nameOf: (userId: string) => string): NotificationSpec[] {
  const p = (event.payload ?? {}) as Record<string, unknown>;
  if (!concernsOthers(event)) return [];
  const base = { type: event.type, sourceKey: event.id, sourceSeq: event.seq };
  switch (event.type) {
    case 'learning.enrollment.activated': {
      if (!isId(p.userId) || !isId(p.courseId)) return [];
      const course = str(p.courseTitle, 200) || 'a course';
      return [{ ...base, userId: p.userId, category: 'enrollment', title: `You are enrolled in ${course}`, body: `Your enrollment in ${course} is active. Start learning!`, link: `/courses/${p.courseId}`, entity: { type: 'course', id: p.courseId }, actorId: null }];
    }
    case 'learning.invitation.created': {
      if (!isId(p.userId) || !isId(p.courseId) || !isId(p.invitationId)) return [];
      const course = str(p.courseTitle, 200) || 'a course';
      const inviter = isId(p.invitedBy) ? p.invitedBy : null;
      return [{ ...base, userId: p.userId, category: 'enrollment', title: `${inviter ? nameOf(inviter) : 'A teacher'} invited you to ${course}`, body: 'Accept the invitation to join the course, or decline it.', link: `/me/course-invitations/${p.invitationId}`, entity: { type: 'course', id: p.courseId }, actorId: inviter }];
    }
    case 'learning.attempt.graded': {
      if (!isId(p.userId) || !isId(p.attemptId)) return [];
      const score = typeof p.score === 'number' && typeof p.maxScore === 'number' ? ` You scored ${p.score} of ${p.maxScore}.` : '';
      const verdict = p.passed === true ? ' You passed.' : p.passed === false ? ' You did not pass this time.' : '';
      return [{ ...base, userId: p.userId, category: 'grade', title: `Your attempt at ${quote(str(p.quizTitle, 200))} was graded`, body: `Your attempt was graded.${score}${verdict}`.trim(), link: `/attempts/${p.attemptId}`, entity: { type: 'attempt', id: p.attemptId }, actorId: null }];
    }
    case 'chat.message.notify': {
      const listed: unknown = p.notifyIds;
      if (!isId(p.conversationId) || !Array.isArray(listed)) return [];
      const sender = isId(p.senderId) ? p.senderId : null;
      const recipients = [...new Set(listed.filter(isId))].filter((id) => id !== sender).slice(0, 10_000);
      const from = sender ? nameOf(sender) : 'Someone';
      // Keyed by the message, not the event: a notify job that runs twice tells each member once.
      const sourceKey = isId(p.messageId) ? `${event.type}:${p.messageId}` : base.sourceKey;
      return recipients.map((userId) => ({
        ...base,
        sourceKey,
        userId,
        category: 'message' as const,
        title: `New message from ${from}`,
        body: str(p.preview, 280),
        link: `/conversations/${p.conversationId}`,
        entity: { type: 'conversation', id: p.conversationId as string },
        actorId: sender,
        groupKey: `message:${p.conversationId}`,
        groupTitle: '{count} new messages',
      }));
    }
    case 'chat.mention.created': {
      if (!isId(p.userId) || !isId(p.conversationId) || p.userId === p.senderId) return [];
      const sender = isId(p.senderId) ? p.senderId : null;
      return [{ ...base, userId: p.userId, category: 'mention', title: `${sender ? nameOf(sender) : 'Someone'} mentioned you in a conversation`, body: '', link: `/conversations/${p.conversationId}`, entity: { type: 'conversation', id: p.conversationId }, actorId: sender }];
    }
    case 'community.comment.created': {
      if (!isId(p.postId) || !isId(p.commentId) || !isId(p.authorId)) return [];
      const author = p.authorId;
      const specs: NotificationSpec[] = [];
      const common = { ...base, category: 'comment' as const, body: str(p.preview, 280), link: `/posts/${p.postId}#${p.commentId}`, actorId: author };
      if (isId(p.postAuthorId) && p.postAuthorId !== author) {
        specs.push({ ...common, userId: p.postAuthorId, title: `${nameOf(author)} commented on your post`, entity: { type: 'post', id: p.postId }, groupKey: `comment:post:${p.postId}`, groupTitle: '{count} new comments on your post' });
      }
      if (isId(p.parentAuthorId) && isId(p.parentCommentId) && p.parentAuthorId !== author && p.parentAuthorId !== p.postAuthorId) {
        specs.push({ ...common, userId: p.parentAuthorId, title: `${nameOf(author)} replied to your comment`, entity: { type: 'comment', id: p.parentCommentId }, groupKey: `comment:reply:${p.parentCommentId}`, groupTitle: '{count} new replies to your comment' });
      }
      return specs;
    }
    case 'community.mention.created': {
      if (!isId(p.userId) || !isId(p.postId) || p.userId === p.authorId) return [];
      const author = isId(p.authorId) ? p.authorId : null;
      const onComment = isId(p.commentId);
      return [{ ...base, userId: p.userId, category: 'mention', title: `${author ? nameOf(author) : 'Someone'} mentioned you in a ${onComment ? 'comment' : 'post'}`, body: '', link: onComment ? `/posts/${p.postId}#${p.commentId}` : `/posts/${p.postId}`, entity: onComment ? { type: 'comment', id: p.commentId as string } : { type: 'post', id: p.postId }, actorId: author }];
    }
    case 'community.reaction.created': {
      // authorId: who wrote the post or comment reacted to (the recipient); userId: who reacted.
      if (!isId(p.authorId) || !isId(p.targetId) || !isId(p.postId) || p.authorId === p.userId) return [];
      const target = p.targetType === 'comment' ? 'comment' : 'post';
      const reactor = isId(p.userId) ? p.userId : null;
      return [{ ...base, userId: p.authorId, category: 'reaction', title: `${reactor ? nameOf(reactor) : 'Someone'} reacted to your ${target}`, body: str(p.kind, 40), link: `/posts/${p.postId}`, entity: { type: target, id: p.targetId }, actorId: reactor, groupKey: `reaction:${target}:${p.targetId}`, groupTitle: `{count} new reactions to your ${target}` }];
    }
    case 'community.follow.created': {
      if (!isId(p.followeeId) || !isId(p.followerId) || p.followeeId === p.followerId) return [];
      return [{ ...base, userId: p.followeeId, category: 'follow', title: `${nameOf(p.followerId)} started following you`, body: '', link: `/users/${p.followerId}`, entity: { type: 'user', id: p.followerId }, actorId: p.followerId, groupKey: 'follow', groupTitle: '{count} new followers' }];
    }
    case 'identity.session.revoked': {
      const text = typeof p.reason === 'string' ? SECURITY_REASONS[p.reason] : undefined;
      if (!isId(p.userId) || !text) return [];
      return [{ ...base, userId: p.userId, category: 'security', title: 'Security notice for your account', body: text, link: '/settings/security', entity: { type: 'user', id: p.userId }, actorId: null }];
    }
    default:
      return [];
  }
}
