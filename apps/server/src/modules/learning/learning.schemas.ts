import { Type, type Static } from '@sinclair/typebox';
import { PageQuery } from '../../core/http/pagination.js';
import { CourseProgress } from './progress.schemas.js';

const DateTime = Type.String({ format: 'date-time', maxLength: 40 });
const Id = (prefix: string) => Type.String({ minLength: 1, maxLength: 64, pattern: `^${prefix}_[a-z0-9]+$` });
const UserId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z]+_[a-z0-9_]+$' });
const Title = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Slug = Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$', description: 'Lower-case letters, digits and dashes; unique.' });
const Markdown = (maxLength: number) => Type.String({ maxLength, description: 'Markdown.' });
const Tag = Type.String({ minLength: 1, maxLength: 40, pattern: '^[\\p{L}\\p{N}][\\p{L}\\p{N} ._+#-]*$' });
const Language = Type.String({ minLength: 2, maxLength: 35, pattern: '^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$', description: 'BCP 47 tag, e.g. `en` or `pt-BR`.' });

export const COURSE_LEVELS = ['beginner', 'intermediate', 'advanced', 'all'] as const;
export const Level = Type.Union(COURSE_LEVELS.map((l) => Type.Literal(l)));
export const CourseStatus = Type.Union([Type.Literal('draft'), Type.Literal('published'), Type.Literal('archived')]);
export const Visibility = Type.Union([Type.Literal('public'), Type.Literal('unlisted'), Type.Literal('private')], {
  description: '`public`: listed, self-enrollment. `unlisted`: by id only, self-enrollment. `private`: by id only, enrollment by request and approval (or a teacher adds the student).',
});

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
export const EnrollmentParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }), userId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const Course = Type.Object(
  {
    id: Type.String(),
    slug: Type.String(),
    title: Type.String(),
    summary: Type.String(),
    description: Type.String(),
    level: Level,
    tags: Type.Array(Type.String()),
    language: Type.String(),
    status: CourseStatus,
    visibility: Visibility,
    ownerId: Type.String(),
    coTeacherIds: Type.Array(Type.String()),
    capacity: Type.Union([Type.Integer(), Type.Null()]),
    enrolledCount: Type.Integer(),
    enrollmentOpensAt: Type.Union([DateTime, Type.Null()]),
    enrollmentClosesAt: Type.Union([DateTime, Type.Null()]),
    prerequisiteCourseIds: Type.Array(Type.String()),
    publishedAt: Type.Union([DateTime, Type.Null()]),
    createdAt: DateTime,
    updatedAt: DateTime,
    version: Type.Integer(),
  },
  { $id: 'LearningCourse', additionalProperties: false },
);
export type CourseView = Static<typeof Course>;

const courseFields = {
  slug: Slug,
  summary: Type.String({ maxLength: 500 }),
  description: Markdown(100_000),
  level: Level,
  tags: Type.Array(Tag, { maxItems: 20, uniqueItems: true }),
  language: Language,
  status: CourseStatus,
  visibility: Visibility,
  coTeacherIds: Type.Array(UserId, { maxItems: 20, uniqueItems: true, description: 'Other teachers who manage the course with its owner.' }),
  capacity: Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], { description: 'Most active students at once; null for no limit.' }),
  enrollmentOpensAt: Type.Union([DateTime, Type.Null()]),
  enrollmentClosesAt: Type.Union([DateTime, Type.Null()]),
  prerequisiteCourseIds: Type.Array(Id('crs'), { maxItems: 20, uniqueItems: true }),
};

export const CourseCreate = Type.Object(
  {
    title: Title,
    slug: Type.Optional(courseFields.slug),
    summary: Type.Optional(courseFields.summary),
    description: Type.Optional(courseFields.description),
    level: Type.Optional(courseFields.level),
    tags: Type.Optional(courseFields.tags),
    language: Type.Optional(courseFields.language),
    status: Type.Optional(courseFields.status),
    visibility: Type.Optional(courseFields.visibility),
    coTeacherIds: Type.Optional(courseFields.coTeacherIds),
    capacity: Type.Optional(courseFields.capacity),
    enrollmentOpensAt: Type.Optional(courseFields.enrollmentOpensAt),
    enrollmentClosesAt: Type.Optional(courseFields.enrollmentClosesAt),
    prerequisiteCourseIds: Type.Optional(courseFields.prerequisiteCourseIds),
  },
  { additionalProperties: false },
);
export type CourseCreate = Static<typeof CourseCreate>;

// Every field of CourseCreate, each optional (JSON merge patch); at least one.
export const CoursePatch = Type.Partial(CourseCreate, { additionalProperties: false, minProperties: 1 });
export type CoursePatch = Static<typeof CoursePatch>;

export const COURSE_SORTS = ['-createdAt', 'createdAt', 'title', '-title'] as const;
export const CourseQuery = Type.Object(
  {
    ...PageQuery.properties,
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Full-text search over title, summary, description and tags; every word must match.' })),
    level: Type.Optional(Level),
    tag: Type.Optional(Tag),
    language: Type.Optional(Language),
    teacherId: Type.Optional(UserId),
    scope: Type.Optional(
      Type.Union([Type.Literal('catalog'), Type.Literal('teaching'), Type.Literal('enrolled'), Type.Literal('all')], {
        description: '`catalog` (default): published public courses. `teaching`: the caller owns or co-teaches them (any status). `enrolled`: the caller is an active student. `all`: every course (administrators).',
      }),
    ),
    sort: Type.Optional(Type.Union(COURSE_SORTS.map((s) => Type.Literal(s)), { description: 'Default `-createdAt` (newest first).' })),
  },
  { additionalProperties: false },
);
export type CourseQuery = Static<typeof CourseQuery>;

export const Lesson = Type.Object(
  {
    id: Type.String(),
    courseId: Type.String(),
    position: Type.Integer({ description: '1-based order inside the course.' }),
    title: Type.String(),
    content: Type.String(),
    videoUrl: Type.Union([Type.String(), Type.Null()]),
    minutes: Type.Integer(),
    status: Type.Union([Type.Literal('draft'), Type.Literal('published')]),
    required: Type.Boolean(),
    prerequisiteLessonIds: Type.Array(Type.String()),
    createdAt: DateTime,
    updatedAt: DateTime,
    version: Type.Integer(),
  },
  { $id: 'LearningLesson', additionalProperties: false },
);
export type LessonView = Static<typeof Lesson>;

const lessonFields = {
  content: Markdown(200_000),
  videoUrl: Type.Union([Type.String({ format: 'uri', maxLength: 2000, pattern: '^https?://' }), Type.Null()]),
  minutes: Type.Integer({ minimum: 0, maximum: 10_000 }),
  status: Type.Union([Type.Literal('draft'), Type.Literal('published')]),
  required: Type.Boolean({ description: 'Counts toward course completion (default true).' }),
  prerequisiteLessonIds: Type.Array(Id('lsn'), { maxItems: 50, uniqueItems: true, description: 'Lessons of the same course to complete first.' }),
  position: Type.Integer({ minimum: 1, maximum: 10_000, description: 'Moves the lesson to this place (1 = first); the others shift.' }),
};

export const LessonCreate = Type.Object(
  {
    title: Title,
    content: Type.Optional(lessonFields.content),
    videoUrl: Type.Optional(lessonFields.videoUrl),
    minutes: Type.Optional(lessonFields.minutes),
    status: Type.Optional(lessonFields.status),
    required: Type.Optional(lessonFields.required),
    prerequisiteLessonIds: Type.Optional(lessonFields.prerequisiteLessonIds),
    position: Type.Optional(lessonFields.position),
  },
  { additionalProperties: false },
);
export type LessonCreate = Static<typeof LessonCreate>;

// Every field of LessonCreate, each optional (JSON merge patch); at least one.
export const LessonPatch = Type.Partial(LessonCreate, { additionalProperties: false, minProperties: 1 });
export type LessonPatch = Static<typeof LessonPatch>;

export const LessonQuery = Type.Object({ ...PageQuery.properties }, { additionalProperties: false });

export const EnrollmentStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('active'),
  Type.Literal('rejected'),
  Type.Literal('withdrawn'),
  Type.Literal('removed'),
]);

export const Enrollment = Type.Object(
  {
    id: Type.String(),
    courseId: Type.String(),
    userId: Type.String(),
    displayName: Type.Union([Type.String(), Type.Null()], { description: 'The student’s display name, when the account still exists.' }),
    status: EnrollmentStatus,
    createdAt: DateTime,
    updatedAt: DateTime,
    activatedAt: Type.Union([DateTime, Type.Null()]),
    endedAt: Type.Union([DateTime, Type.Null()]),
    progress: Type.Optional(Type.Ref(CourseProgress, { description: 'In the roster, for active students: the numbers they see in GET /me/progress.' })),
    version: Type.Integer(),
  },
  { $id: 'LearningEnrollment', additionalProperties: false },
);
export type EnrollmentView = Static<typeof Enrollment>;

export const EnrollmentCreate = Type.Object(
  {
    userId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Staff only: enroll this student directly (active at once). Omit to enroll yourself.' }),
    ),
  },
  { additionalProperties: false },
);
export type EnrollmentCreate = Static<typeof EnrollmentCreate>;

export const EnrollmentPatch = Type.Object(
  { status: Type.Union([Type.Literal('active'), Type.Literal('rejected')], { description: '`active` approves a pending request; `rejected` declines it.' }) },
  { additionalProperties: false },
);
export type EnrollmentPatch = Static<typeof EnrollmentPatch>;

export const EnrollmentQuery = Type.Object({ ...PageQuery.properties, status: Type.Optional(EnrollmentStatus) }, { additionalProperties: false });
export type EnrollmentQuery = Static<typeof EnrollmentQuery>;
