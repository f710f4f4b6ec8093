/** The events the learning module appends to the log, with their payloads. */
export const LearningEvents = {
  courseCreated: 'learning.course.created',
  courseUpdated: 'learning.course.updated',
  coursePublished: 'learning.course.published',
  courseDeleted: 'learning.course.deleted',
  lessonCreated: 'learning.lesson.created',
  lessonUpdated: 'learning.lesson.updated',
  lessonDeleted: 'learning.lesson.deleted',
  enrollmentRequested: 'learning.enrollment.requested',
  enrollmentActivated: 'learning.enrollment.activated',
  enrollmentRejected: 'learning.enrollment.rejected',
  enrollmentEnded: 'learning.enrollment.ended',
  quizCreated: 'learning.quiz.created',
  quizUpdated: 'learning.quiz.updated',
  quizDeleted: 'learning.quiz.deleted',
  questionChanged: 'learning.question.changed',
  attemptStarted: 'learning.attempt.started',
  attemptSubmitted: 'learning.attempt.submitted',
  attemptGraded: 'learning.attempt.graded',
  lessonCompleted: 'learning.lesson.completed',
  courseCompleted: 'learning.course.completed',
  goalCreated: 'learning.goal.created',
  goalUpdated: 'learning.goal.updated',
  goalDeleted: 'learning.goal.deleted',
  sessionStarted: 'learning.session.started',
  sessionEnded: 'learning.session.ended',
  achievementAwarded: 'learning.achievement.awarded',
  invitationCreated: 'learning.invitation.created',
  invitationAccepted: 'learning.invitation.accepted',
  invitationDeclined: 'learning.invitation.declined',
  invitationRevoked: 'learning.invitation.revoked',
} as const;

/** Scopes: `course:<id>` and the owner's `user:<id>`. */
export interface CoursePayload {
  courseId: string;
  title: string;
  ownerId: string;
  version: number;
}

export interface CourseUpdatedPayload {
  courseId: string;
  version: number;
  fields: string[];
}

export interface CourseDeletedPayload {
  courseId: string;
}

/** Scopes: `course:<courseId>`. */
export interface LessonPayload {
  lessonId: string;
  courseId: string;
  version: number;
}

/** Scopes: `user:<userId>`, `course:<courseId>`. A request for a private course, waiting for staff. */
export interface EnrollmentRequestedPayload {
  courseId: string;
  userId: string;
}

/** Scopes: `user:<userId>`, `course:<courseId>`. Self-enroll, approval or a teacher's add. */
export interface EnrollmentActivatedPayload {
  courseId: string;
  userId: string;
  courseTitle: string;
}

/** Scopes: `user:<userId>`, `course:<courseId>`. */
export interface EnrollmentRejectedPayload {
  courseId: string;
  userId: string;
}

/** Scopes: `user:<userId>`, `course:<courseId>`. Withdrawal by the student or removal by staff. */
export interface EnrollmentEndedPayload {
  courseId: string;
  userId: string;
  reason?: 'withdrawn' | 'removed';
}

/** Scopes: `course:<courseId>`. */
export interface QuizPayload {
  quizId: string;
  courseId: string;
  version: number;
}

/** Scopes: `course:<courseId>`. A question added, changed (answer key corrected: attempts regraded) or deleted. */
export interface QuestionChangedPayload {
  questionId: string;
  quizId: string;
  courseId: string;
  change: 'created' | 'updated' | 'deleted';
  regradedAttempts: number;
}

/** Scopes: `user:<userId>`. */
export interface AttemptStartedPayload {
  attemptId: string;
  quizId: string;
  courseId: string;
  userId: string;
  deadlineAt: string | null;
}

/** Scopes: `user:<userId>`, `course:<courseId>`. `auto`: submitted by the deadline job. */
export interface AttemptSubmittedPayload {
  attemptId: string;
  quizId: string;
  courseId: string;
  userId: string;
  auto: boolean;
  needsGrading: boolean;
}

/** Scopes: `user:<userId>`. When an attempt's score becomes final (auto-scored submit, teacher grading, regrade). */
export interface AttemptGradedPayload {
  attemptId: string;
  quizId: string;
  quizTitle: string;
  courseId: string;
  userId: string;
  score: number;
  maxScore: number;
  passed: boolean;
}

/** Scopes: `user:<userId>`, `course:<courseId>`. */
export interface LessonCompletedPayload {
  lessonId: string;
  courseId: string;
  userId: string;
}

/** Scopes: `user:<userId>`, `course:<courseId>`. Every required lesson done and required quiz passed; a certificate was issued. */
export interface CourseCompletedPayload {
  courseId: string;
  userId: string;
  courseTitle: string;
  certificateCode: string;
}

/** Scopes: `user:<userId>`. */
export interface GoalPayload {
  goalId: string;
  userId: string;
  kind: string;
  version: number;
}

/** Scopes: `user:<userId>`. `seconds` is the counted time (0 when started). */
export interface StudySessionPayload {
  sessionId: string;
  userId: string;
  courseId: string | null;
  seconds: number;
  endReason: string | null;
}

/** Scopes: `user:<userId>`. Emitted once per student and achievement. */
export interface AchievementAwardedPayload {
  userId: string;
  achievement: string;
}

/**
 * Scopes: `user:<userId>` only (created, revoked), so that an invitation by email never tells the
 * course's room whether the address has an account; `user:<userId>`, `course:<courseId>` for the
 * invitee's own answers (accepted, declined).
 */
export interface InvitationPayload {
  invitationId: string;
  courseId: string;
  courseTitle: string;
  userId: string;
  invitedBy: string;
  expiresAt: string;
}
