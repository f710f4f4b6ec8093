import { createHash } from 'node:crypto';
import type { StoredEvent } from '../../core/events/types.js';
import type { AttemptGradedPayload, CourseCompletedPayload, EnrollmentActivatedPayload, LessonCompletedPayload, AttemptSubmittedPayload } from './learning.events.js';
import { LearningEvents } from './learning.events.js';
import type { Statement } from './xapi.schemas.js';

/** Namespace of Lyceum's statement ids (UUID v5 of the event id): the same event always gives the same statement id. */
const NAMESPACE = '0e686c2a-51be-40c3-973f-f118f3b65493';

/** RFC 4122 UUID version 5 (SHA-1, name-based). */
export function uuidV5(name: string, namespace = NAMESPACE): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const ADL = 'http://adlnet.gov/expapi';
const verb = (name: 'registered' | 'completed' | 'attempted' | 'passed' | 'failed') => ({ id: `${ADL}/verbs/${name}`, display: { 'en-US': name } });

/** The learning events that become statements. */
export const STATEMENT_EVENTS: readonly string[] = [
  LearningEvents.enrollmentActivated,
  LearningEvents.lessonCompleted,
  LearningEvents.attemptSubmitted,
  LearningEvents.attemptGraded,
  LearningEvents.courseCompleted,
];

/**
 * An event of the log as an xAPI 1.0.3 statement, or null for events that are not a learner's
 * experience. Activities are identified by their API URL under the public URL.
 */
export function toStatement(event: StoredEvent, publicUrl: string): Statement | null {
  const activity = (kind: 'courses' | 'lessons' | 'quizzes', id: string, type: 'course' | 'lesson' | 'assessment', name?: string) => ({
    objectType: 'Activity' as const,
    id: `${publicUrl}/api/v1/${kind}/${id}`,
    definition: { type: `${ADL}/activities/${type}`, ...(name ? { name: { 'en-US': name } } : {}) },
  });
  const inCourse = (courseId: string) => ({ contextActivities: { parent: [activity('courses', courseId, 'course')] } });
  const base = (userId: string) => ({
    id: uuidV5(event.id),
    actor: { objectType: 'Agent' as const, account: { homePage: publicUrl, name: userId } },
    timestamp: event.createdAt,
    version: '1.0.3' as const,
  });
  switch (event.type) {
    case LearningEvents.enrollmentActivated: {
      const p = event.payload as EnrollmentActivatedPayload;
      return { ...base(p.userId), verb: verb('registered'), object: activity('courses', p.courseId, 'course', p.courseTitle) };
    }
    case LearningEvents.lessonCompleted: {
      const p = event.payload as LessonCompletedPayload;
      return { ...base(p.userId), verb: verb('completed'), object: activity('lessons', p.lessonId, 'lesson'), result: { completion: true }, context: inCourse(p.courseId) };
    }
    case LearningEvents.attemptSubmitted: {
      const p = event.payload as AttemptSubmittedPayload;
      return { ...base(p.userId), verb: verb('attempted'), object: activity('quizzes', p.quizId, 'assessment'), context: inCourse(p.courseId) };
    }
    case LearningEvents.attemptGraded: {
      const p = event.payload as AttemptGradedPayload;
      const scaled = p.maxScore > 0 ? Math.round((p.score / p.maxScore) * 10_000) / 10_000 : 0;
      return {
        ...base(p.userId),
        verb: verb(p.passed ? 'passed' : 'failed'),
        object: activity('quizzes', p.quizId, 'assessment', p.quizTitle),
        result: { score: { scaled, raw: p.score, min: 0, max: p.maxScore }, success: p.passed, completion: true },
        context: inCourse(p.courseId),
      };
    }
    case LearningEvents.courseCompleted: {
      const p = event.payload as CourseCompletedPayload;
      return { ...base(p.userId), verb: verb('completed'), object: activity('courses', p.courseId, 'course', p.courseTitle), result: { completion: true } };
    }
    default:
      return null;
  }
}
