/** Row types of the learning module's tables (times are RFC 3339 UTC text; booleans 0/1). */
export interface CourseRow {
  id: string;
  slug: string;
  title: string;
  summary: string;
  description: string;
  level: string;
  /** JSON array of tags, as given. */
  tags: string;
  language: string;
  status: 'draft' | 'published' | 'archived';
  visibility: 'public' | 'unlisted' | 'private';
  owner_id: string;
  capacity: number | null;
  enrolled_count: number;
  enroll_opens_at: string | null;
  enroll_closes_at: string | null;
  /** JSON array of course ids. */
  prerequisites: string;
  /** Title, summary, description and tags in one text, for full-text search. */
  search_text: string;
  version: number;
  created_at: string;
  updated_at: string;
  published_at: string | null;
}

export interface CourseTeacherRow {
  course_id: string;
  user_id: string;
  created_at: string;
}

export interface CourseTagRow {
  course_id: string;
  tag: string;
}

export interface LessonRow {
  id: string;
  course_id: string;
  position: number;
  title: string;
  content: string;
  video_url: string | null;
  minutes: number;
  status: 'draft' | 'published';
  required: number;
  /** JSON array of lesson ids of the same course. */
  prerequisites: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export type EnrollmentStatus = 'pending' | 'active' | 'rejected' | 'withdrawn' | 'removed';

export interface EnrollmentRow {
  id: string;
  course_id: string;
  user_id: string;
  status: EnrollmentStatus;
  /** Who created or last changed it: 'self' or 'staff'. */
  source: string;
  version: number;
  created_at: string;
  updated_at: string;
  activated_at: string | null;
  ended_at: string | null;
}

export interface QuizRow {
  id: string;
  course_id: string;
  lesson_id: string | null;
  title: string;
  description: string;
  status: 'draft' | 'published';
  time_limit_seconds: number | null;
  max_attempts: number | null;
  passing_score: number;
  opens_at: string | null;
  closes_at: string | null;
  shuffle_questions: number;
  shuffle_options: number;
  feedback: 'none' | 'correctness' | 'answers' | 'explanations';
  draw_count: number | null;
  required: number;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface QuestionRow {
  id: string;
  quiz_id: string;
  position: number;
  type: string;
  prompt: string;
  points: number;
  explanation: string;
  /** JSON: what students see (options, pairs' sides). */
  content: string;
  /** JSON: the answer key; never leaves the server before submission. */
  answer_key: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export type AttemptStatus = 'open' | 'submitted' | 'graded';

export interface AttemptRow {
  id: string;
  quiz_id: string;
  course_id: string;
  user_id: string;
  number: number;
  status: AttemptStatus;
  /** `<quizId>:<userId>` while open, null after: a unique index allows one open attempt per student and quiz. */
  open_key: string | null;
  /** JSON: the questions drawn, in order, with each one's option order. */
  layout: string;
  started_at: string;
  deadline_at: string | null;
  submitted_at: string | null;
  score: number | null;
  max_score: number;
  passed: number | null;
  version: number;
}

export interface AnswerRow {
  attempt_id: string;
  question_id: string;
  /** JSON response. */
  response: string;
  client_timestamp: string | null;
  /** Points given (auto-scored at submission, or by a teacher); null until then. */
  points: number | null;
  comment: string | null;
  updated_at: string;
}

export interface LessonCompletionRow {
  lesson_id: string;
  user_id: string;
  course_id: string;
  completed_at: string;
}

export interface CertificateRow {
  id: string;
  /** Public verification code. */
  code: string;
  course_id: string;
  user_id: string;
  course_title: string;
  issued_at: string;
}

export interface StudySessionRow {
  id: string;
  user_id: string;
  course_id: string | null;
  lesson_id: string | null;
  started_at: string;
  /** The last heartbeat (or the start). */
  last_seen_at: string;
  ended_at: string | null;
  /** 'stopped' | 'timeout' (heartbeat gap) | 'replaced' (a new session started) | 'abandoned' (closed by the job). */
  end_reason: string | null;
  /** Counted time, set when the session ends. */
  seconds: number;
  version: number;
}

export interface GoalRow {
  id: string;
  user_id: string;
  /** 'course_by_date' | 'minutes_per_week' | 'lessons_per_week'. */
  kind: string;
  title: string;
  course_id: string | null;
  target: number | null;
  due_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

/** One row per student and day (YYYY-MM-DD, in the student's time zone at the time) with learning activity: the streak's days. */
export interface ActivityDayRow {
  user_id: string;
  day: string;
  first_at: string;
}

/** One row per student and achievement: the primary key makes awarding exactly-once. */
export interface AchievementRow {
  user_id: string;
  achievement: string;
  awarded_at: string;
}

export type InvitationStatus = 'pending' | 'accepted' | 'declined' | 'revoked';

export interface InvitationRow {
  id: string;
  course_id: string;
  /** The invitee; null for an invitation by an email that has no account (it can never be accepted). */
  user_id: string | null;
  /** Set when the teacher invited by email (normalised). */
  email: string | null;
  status: InvitationStatus;
  /** `<courseId>:<userId or email>` while pending, null after: one open invitation per course and invitee. */
  open_key: string | null;
  invited_by: string;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  version: number;
}

export interface LearningTables {
  learning_invitation: InvitationRow;
  learning_study_session: StudySessionRow;
  learning_goal: GoalRow;
  learning_activity_day: ActivityDayRow;
  learning_achievement: AchievementRow;
  learning_lesson_completion: LessonCompletionRow;
  learning_certificate: CertificateRow;
  learning_quiz: QuizRow;
  learning_question: QuestionRow;
  learning_attempt: AttemptRow;
  learning_answer: AnswerRow;
  learning_course: CourseRow;
  learning_course_teacher: CourseTeacherRow;
  learning_course_tag: CourseTagRow;
  learning_lesson: LessonRow;
  learning_enrollment: EnrollmentRow;
}
