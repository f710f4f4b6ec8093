import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { Database, Tx } from '../../core/db/database.js';
import { isDbError } from '../../core/db/errors.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import type { Principal } from '../../core/http/access.js';
import { versionMismatch } from '../../core/http/etag.js';
import { toPage, type CursorCodec, type Page } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { wordsOf } from '../../core/text.js';
import { newId } from '../../core/ids.js';
import type { UsersDirectory } from '../identity/index.js';
import { createCatalogCache } from './catalog-cache.js';
import { conflict, courseNotFound, forbidden, invalid, lessonNotFound, LearningErrors } from './learning.errors.js';
import { LearningEvents, type CourseDeletedPayload, type CoursePayload, type CourseUpdatedPayload, type LessonPayload } from './learning.events.js';
import { learningRepo, type CourseFilter, type LearningRepo, type ListedCourseRow } from './learning.repo.js';
import type { CourseCreate, CoursePatch, CourseQuery, CourseView, LessonCreate, LessonPatch, LessonView } from './learning.schemas.js';
import type { CourseRow, EnrollmentRow, LessonRow } from './learning.tables.js';

/** Catalog pages a node keeps (about 20 KB each at 20 courses a page). */
const CATALOG_CACHE_PAGES = 500;

/** The permission that lets administrators manage every course. */
export const MANAGE_ANY = 'course:manage-any';
export const isCourseAdmin = (p: Principal | null | undefined): boolean => Boolean(p?.permissions.has(MANAGE_ANY));

export interface LearningContext {
  database: Database;
  clock: Clock;
  events: EventLog;
  cursors: CursorCodec;
  users: UsersDirectory;
}

const parseList = (json: string): string[] => {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
};

export function courseView(row: ListedCourseRow, coTeacherIds: string[]): CourseView {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    summary: row.summary,
    description: row.description,
    level: row.level as CourseView['level'],
    tags: parseList(row.tags),
    language: row.language,
    status: row.status,
    visibility: row.visibility,
    ownerId: row.owner_id,
    coTeacherIds,
    capacity: row.capacity,
    enrolledCount: Number(row.enrolled_count),
    enrollmentOpensAt: row.enroll_opens_at,
    enrollmentClosesAt: row.enroll_closes_at,
    prerequisiteCourseIds: parseList(row.prerequisites),
    publishedAt: row.published_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export function lessonView(row: LessonRow): LessonView {
  return {
    id: row.id,
    courseId: row.course_id,
    position: row.position,
    title: row.title,
    content: row.content,
    videoUrl: row.video_url,
    minutes: row.minutes,
    status: row.status,
    required: Boolean(row.required),
    prerequisiteLessonIds: parseList(row.prerequisites),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

/** Words of a free-text query: letters and digits only, so no search syntax reaches FTS5 or tsquery. */
const searchText = (r: Pick<CourseRow, 'title' | 'summary' | 'description'>, tags: string[]) => [r.title, r.summary, r.description, tags.join(' ')].join('\n');

export function slugify(title: string): string {
  const base = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/g, '');
  return base || 'course';
}

/**
 * How a caller relates to a course: staff (owner, co-teacher, or an administrator), its enrollment
 * (if any), and what follows from those: may they see it, and its lessons.
 */
export interface CourseAccess {
  course: CourseRow;
  coTeacherIds: string[];
  staff: boolean;
  enrollment: EnrollmentRow | undefined;
}

/** What decides whether a caller sees a course and its lessons (a `CourseAccess`, or the same facts read with a quiz). */
export interface CourseSight {
  staff: boolean;
  course: Pick<CourseRow, 'status' | 'visibility'>;
  enrollment: Pick<EnrollmentRow, 'status'> | undefined;
}

/** Staff of a course: administrators, its owner and its co-teachers. */
export const isCourseStaff = (principal: Principal | null, ownerId: string, coTeaches: boolean): boolean =>
  Boolean(principal && (isCourseAdmin(principal) || ownerId === principal.userId || coTeaches));

export function canSeeCourse(a: CourseSight): boolean {
  if (a.staff) return true;
  if (a.course.status === 'published') return true;
  // Archived courses stay readable for the students who took them.
  return a.course.status === 'archived' && a.enrollment?.status === 'active';
}

export function canSeeLessons(a: CourseSight): boolean {
  if (a.staff) return true;
  if (!canSeeCourse(a)) return false;
  return a.course.visibility !== 'private' || a.enrollment?.status === 'active';
}

export function createCourseService(ctx: LearningContext) {
  const { database, clock, events, cursors, users } = ctx;
  const { db } = database;
  const dialect = database.dialect.name;
  const repo = (handle: typeof db | Tx = db): LearningRepo => learningRepo(handle, dialect);
  const iso = () => clock.now().toISOString();
  const catalog = createCatalogCache<Page<CourseView>>({ events, maxEntries: CATALOG_CACHE_PAGES });

  async function accessOf(handle: typeof db | Tx, principal: Principal | null, courseId: string): Promise<CourseAccess | undefined> {
    const r = repo(handle);
    const course = await r.findCourse(courseId);
    if (!course) return undefined;
    const coTeacherIds = (await r.coTeachers([course.id])).get(course.id) ?? [];
    const userId = principal?.userId;
    const staff = isCourseStaff(principal, course.owner_id, coTeacherIds.includes(userId!));
    const enrollment = userId ? await r.findEnrollment(course.id, userId) : undefined;
    return { course, coTeacherIds, staff, enrollment };
  }

  /** The course if the caller may see it; 404 otherwise (also for what exists but is hidden). */
  async function visible(handle: typeof db | Tx, principal: Principal | null, courseId: string): Promise<CourseAccess> {
    const access = await accessOf(handle, principal, courseId);
    if (!access || !canSeeCourse(access)) throw courseNotFound();
    return access;
  }

  /** The course if the caller manages it: 404 when they may not see it, 403 when they only may see it. */
  async function managed(handle: typeof db | Tx, principal: Principal, courseId: string): Promise<CourseAccess> {
    const access = await visible(handle, principal, courseId);
    if (!access.staff) throw forbidden('Only the course’s teachers and administrators may do this.');
    return access;
  }

  /** Co-teachers must be existing teacher accounts (looked up before any transaction opens). */
  async function checkCoTeachers(ids: readonly string[] | undefined, ownerId: string): Promise<string[] | undefined> {
    if (!ids) return undefined;
    const wanted = [...new Set(ids)].filter((id) => id !== ownerId);
    if (!wanted.length) return [];
    const found = await users.lookup(wanted);
    for (const id of wanted) {
      const user = found.get(id);
      if (!user || !user.active || !user.roles.some((r) => r === 'teacher' || r === 'admin')) {
        throw new AppError(422, LearningErrors.LEARNING_NOT_A_TEACHER, `${id} is not an active teacher account.`, { errors: [{ path: '/body/coTeacherIds', message: 'must be teacher accounts' }] });
      }
    }
    return wanted;
  }

  function checkWindow(opens: string | null, closes: string | null) {
    if (opens && closes && Date.parse(opens) >= Date.parse(closes)) throw invalid('The enrollment window must open before it closes.', '/body/enrollmentClosesAt');
  }

  async function checkPrerequisites(tx: Tx, courseId: string, ids: readonly string[]) {
    if (ids.includes(courseId)) throw invalid('A course cannot be its own prerequisite.', '/body/prerequisiteCourseIds');
    const found = await repo(tx).findCourses(ids);
    if (found.length !== new Set(ids).size) throw invalid('Every prerequisite must be an existing course.', '/body/prerequisiteCourseIds');
  }

  async function uniqueSlug(tx: Tx, base: string): Promise<string> {
    if (!(await repo(tx).findCourseBySlug(base))) return base;
    return `${base.slice(0, 90)}-${randomBytes(4).toString('hex')}`;
  }

  const slugTaken = (err: unknown) => (isDbError(err, 'unique') ? conflict(LearningErrors.LEARNING_SLUG_TAKEN, 'Another course has this slug.') : err);

  const courseScopes = (course: Pick<CourseRow, 'id' | 'owner_id'>) => [`course:${course.id}`, `user:${course.owner_id}`];

  async function lessonAccess(principal: Principal | null, lessonId: string) {
    const lesson = await repo().findLesson(lessonId);
    if (!lesson) throw lessonNotFound();
    const access = await accessOf(db, principal, lesson.course_id);
    if (!access || !canSeeLessons(access) || (!access.staff && lesson.status !== 'published')) throw lessonNotFound();
    return { lesson, access };
  }

  /** Moves `lessonId` to `position` (1-based, clamped), renumbering the course's lessons 1..n. */
  async function placeLesson(tx: Tx, courseId: string, lessonId: string, position: number | undefined) {
    const r = repo(tx);
    const lessons = await r.lessonsOf(courseId);
    const ordered = lessons.filter((l) => l.id !== lessonId);
    const current = lessons.find((l) => l.id === lessonId);
    if (!current) return;
    const index = position === undefined ? ordered.length : Math.min(Math.max(position, 1), ordered.length + 1) - 1;
    ordered.splice(index, 0, current);
    for (const [i, lesson] of ordered.entries()) if (lesson.position !== i + 1) await r.setLessonPosition(lesson.id, i + 1);
  }

  async function checkLessonPrerequisites(tx: Tx, courseId: string, lessonId: string, ids: readonly string[]) {
    if (ids.includes(lessonId)) throw invalid('A lesson cannot be its own prerequisite.', '/body/prerequisiteLessonIds');
    const inCourse = new Set((await repo(tx).lessonsOf(courseId)).map((l) => l.id));
    if (!ids.every((id) => inCourse.has(id))) throw invalid('Prerequisites must be lessons of the same course.', '/body/prerequisiteLessonIds');
  }

  return {
    /** Pass the transaction when calling inside one (SQLite has a single connection). */
    accessOf: (principal: Principal | null, courseId: string, handle: typeof db | Tx = db) => accessOf(handle, principal, courseId),
    visible: (principal: Principal | null, courseId: string, handle: typeof db | Tx = db) => visible(handle, principal, courseId),
    managed: (principal: Principal, courseId: string, handle: typeof db | Tx = db) => managed(handle, principal, courseId),

    async create(principal: Principal, input: CourseCreate): Promise<CourseView> {
      const coTeacherIds = (await checkCoTeachers(input.coTeacherIds, principal.userId)) ?? [];
      checkWindow(input.enrollmentOpensAt ?? null, input.enrollmentClosesAt ?? null);
      const now = iso();
      const tags = input.tags ?? [];
      const status = input.status ?? 'draft';
      try {
        return await withTransaction(db, async (tx) => {
          const id = newId('crs');
          await checkPrerequisites(tx, id, input.prerequisiteCourseIds ?? []);
          const row: CourseRow = {
            id,
            slug: input.slug ?? (await uniqueSlug(tx, slugify(input.title))),
            title: input.title.trim(),
            summary: input.summary ?? '',
            description: input.description ?? '',
            level: input.level ?? 'all',
            tags: JSON.stringify(tags),
            language: input.language ?? 'en',
            status,
            visibility: input.visibility ?? 'public',
            owner_id: principal.userId,
            capacity: input.capacity ?? null,
            enrolled_count: 0,
            enroll_opens_at: input.enrollmentOpensAt ?? null,
            enroll_closes_at: input.enrollmentClosesAt ?? null,
            prerequisites: JSON.stringify(input.prerequisiteCourseIds ?? []),
            search_text: '',
            version: 1,
            created_at: now,
            updated_at: now,
            published_at: status === 'published' ? now : null,
          };
          row.search_text = searchText(row, tags);
          await repo(tx).insertCourse(row, coTeacherIds, tags);
          await events.append<CoursePayload>(tx, { type: LearningEvents.courseCreated, scopes: courseScopes(row), payload: { courseId: id, title: row.title, ownerId: row.owner_id, version: 1 }, actorId: principal.userId });
          if (status === 'published') {
            await events.append<CoursePayload>(tx, { type: LearningEvents.coursePublished, scopes: courseScopes(row), payload: { courseId: id, title: row.title, ownerId: row.owner_id, version: 1 }, actorId: principal.userId });
          }
          return courseView(row, coTeacherIds);
        });
      } catch (err) {
        throw slugTaken(err);
      }
    },

    async get(principal: Principal | null, id: string): Promise<CourseView> {
      const access = await visible(db, principal, id);
      return courseView(access.course, access.coTeacherIds);
    },

    async list(principal: Principal | null, query: CourseQuery): Promise<Page<CourseView>> {
      const limit = query.limit ?? 20;
      const sort = query.sort ?? '-createdAt';
      const scope = query.scope ?? 'catalog';
      if (scope !== 'catalog' && !principal) throw new AppError(401, 'AUTH_REQUIRED', 'Sign in to list the courses you teach or take.', { headers: { 'www-authenticate': 'Bearer' } });
      if (scope === 'all' && !isCourseAdmin(principal)) throw forbidden('Only administrators may list every course.');
      let after: [string, string] | undefined;
      if (query.cursor) {
        const values = cursors.decode(query.cursor);
        if (values.length !== 3 || values[0] !== sort || typeof values[1] !== 'string' || typeof values[2] !== 'string') {
          throw new AppError(400, 'PAGINATION_INVALID_CURSOR', 'The cursor is not one this server issued for this list.');
        }
        after = [values[1], values[2]];
      }
      const words = query.q !== undefined ? wordsOf(query.q, 20) : undefined;
      if (words && !words.length) return { items: [], nextCursor: null };
      const filter: CourseFilter = {
        words,
        level: query.level,
        tag: query.tag,
        language: query.language,
        teacherId: query.teacherId,
        sort,
        after,
        limit: limit + 1,
        ...(scope === 'catalog' ? { statuses: ['published'], visibilities: ['public'] } : {}),
        ...(scope === 'teaching' ? { teachingUserId: principal!.userId } : {}),
        ...(scope === 'enrolled' ? { enrolledUserId: principal!.userId, statuses: ['published', 'archived'] } : {}),
      };
      const column = sort === 'title' || sort === '-title' ? 'title' : 'created_at';
      const read = async () => toPage(await repo().listCourses(filter), limit, cursors, (r) => [sort, r[column], r.id], (r) => courseView(r, parseList(r.co_teacher_ids)));
      // The catalog is the same for every caller: its pages are shared (see catalog-cache.ts).
      if (scope !== 'catalog') return read();
      return catalog.page(JSON.stringify([words, query.level, query.tag, query.language, query.teacherId, sort, after, limit]), read);
    },

    async update(principal: Principal, id: string, expected: number | undefined, patch: CoursePatch): Promise<CourseView> {
      const before = await managed(db, principal, id);
      const isOwner = before.course.owner_id === principal.userId || isCourseAdmin(principal);
      if (patch.coTeacherIds && !isOwner) throw forbidden('Only the owner or an administrator may change the co-teachers.');
      const coTeacherIds = await checkCoTeachers(patch.coTeacherIds, before.course.owner_id);
      try {
        return await withTransaction(db, async (tx) => {
          const r = repo(tx);
          const access = await managed(tx, principal, id);
          const course = access.course;
          if (expected !== undefined && expected !== course.version) throw versionMismatch(course.version);
          if (patch.prerequisiteCourseIds) await checkPrerequisites(tx, id, patch.prerequisiteCourseIds);
          const tags = patch.tags ?? parseList(course.tags);
          const now = iso();
          const changes: Partial<CourseRow> = {
            ...(patch.title !== undefined ? { title: patch.title.trim() } : {}),
            ...(patch.slug !== undefined ? { slug: patch.slug } : {}),
            ...(patch.summary !== undefined ? { summary: patch.summary } : {}),
            ...(patch.description !== undefined ? { description: patch.description } : {}),
            ...(patch.level !== undefined ? { level: patch.level } : {}),
            ...(patch.tags !== undefined ? { tags: JSON.stringify(patch.tags) } : {}),
            ...(patch.language !== undefined ? { language: patch.language } : {}),
            ...(patch.status !== undefined ? { status: patch.status } : {}),
            ...(patch.visibility !== undefined ? { visibility: patch.visibility } : {}),
            ...(patch.capacity !== undefined ? { capacity: patch.capacity } : {}),
            ...(patch.enrollmentOpensAt !== undefined ? { enroll_opens_at: patch.enrollmentOpensAt } : {}),
            ...(patch.enrollmentClosesAt !== undefined ? { enroll_closes_at: patch.enrollmentClosesAt } : {}),
            ...(patch.prerequisiteCourseIds !== undefined ? { prerequisites: JSON.stringify(patch.prerequisiteCourseIds) } : {}),
            updated_at: now,
          };
          const next: CourseRow = { ...course, ...changes, version: course.version + 1 };
          checkWindow(next.enroll_opens_at, next.enroll_closes_at);
          const published = course.status !== 'published' && next.status === 'published';
          if (published && !course.published_at) next.published_at = changes.published_at = now;
          next.search_text = changes.search_text = searchText(next, tags);
          if (!(await r.updateCourse(id, course.version, changes))) throw versionMismatch(course.version + 1);
          if (patch.tags) await r.setTags(id, patch.tags);
          if (coTeacherIds) await r.setCoTeachers(id, coTeacherIds, now);
          await r.indexCourse(id, next.search_text);
          await events.append<CourseUpdatedPayload>(tx, { type: LearningEvents.courseUpdated, scopes: courseScopes(next), payload: { courseId: id, version: next.version, fields: Object.keys(patch) }, actorId: principal.userId });
          if (published) {
            await events.append<CoursePayload>(tx, { type: LearningEvents.coursePublished, scopes: courseScopes(next), payload: { courseId: id, title: next.title, ownerId: next.owner_id, version: next.version }, actorId: principal.userId });
          }
          return courseView(next, coTeacherIds ?? access.coTeacherIds);
        });
      } catch (err) {
        throw slugTaken(err);
      }
    },

    async remove(principal: Principal, id: string, expected: number | undefined): Promise<void> {
      await withTransaction(db, async (tx) => {
        const { course } = await managed(tx, principal, id);
        if (course.owner_id !== principal.userId && !isCourseAdmin(principal)) throw forbidden('Only the owner or an administrator may delete a course.');
        if (expected !== undefined && expected !== course.version) throw versionMismatch(course.version);
        if ((await repo(tx).countActive(id)) > 0) {
          throw conflict(LearningErrors.LEARNING_COURSE_HAS_STUDENTS, 'The course has active students: archive it (status "archived") instead, or remove them first.');
        }
        await repo(tx).deleteCourse(id);
        await events.append<CourseDeletedPayload>(tx, { type: LearningEvents.courseDeleted, scopes: courseScopes(course), payload: { courseId: id }, actorId: principal.userId });
      });
    },

    // ── lessons ────────────────────────────────────────────────────────
    async listLessons(principal: Principal | null, courseId: string, query: { limit?: number; cursor?: string }): Promise<Page<LessonView>> {
      const access = await visible(db, principal, courseId);
      if (!canSeeLessons(access)) throw forbidden('Enroll in this private course to see its lessons.');
      const limit = query.limit ?? 20;
      let after: number | undefined;
      if (query.cursor) {
        const [value] = cursors.decode(query.cursor);
        if (typeof value !== 'number') throw new AppError(400, 'PAGINATION_INVALID_CURSOR', 'The cursor is not one this server issued for this list.');
        after = value;
      }
      const rows = await repo().listLessons(courseId, !access.staff, after, limit + 1);
      return toPage(rows, limit, cursors, (r) => [r.position], lessonView);
    },

    async getLesson(principal: Principal | null, id: string): Promise<LessonView> {
      return lessonView((await lessonAccess(principal, id)).lesson);
    },

    async createLesson(principal: Principal, courseId: string, input: LessonCreate): Promise<LessonView> {
      return withTransaction(db, async (tx) => {
        await managed(tx, principal, courseId);
        await repo(tx).lockCourse(courseId);
        const id = newId('lsn');
        await checkLessonPrerequisites(tx, courseId, id, input.prerequisiteLessonIds ?? []);
        const existing = await repo(tx).lessonsOf(courseId);
        const now = iso();
        const row: LessonRow = {
          id,
          course_id: courseId,
          position: existing.length + 1,
          title: input.title.trim(),
          content: input.content ?? '',
          video_url: input.videoUrl ?? null,
          minutes: input.minutes ?? 0,
          status: input.status ?? 'draft',
          required: input.required === false ? 0 : 1,
          prerequisites: JSON.stringify(input.prerequisiteLessonIds ?? []),
          version: 1,
          created_at: now,
          updated_at: now,
        };
        await repo(tx).insertLesson(row);
        if (input.position !== undefined) await placeLesson(tx, courseId, id, input.position);
        const stored = (await repo(tx).findLesson(id))!;
        await events.append<LessonPayload>(tx, { type: LearningEvents.lessonCreated, scopes: [`course:${courseId}`], payload: { lessonId: id, courseId, version: 1 }, actorId: principal.userId });
        return lessonView(stored);
      });
    },

    async updateLesson(principal: Principal, id: string, expected: number | undefined, patch: LessonPatch): Promise<LessonView> {
      const existing = await repo().findLesson(id);
      if (!existing) throw lessonNotFound();
      return withTransaction(db, async (tx) => {
        const access = await accessOf(tx, principal, existing.course_id);
        if (!access || !canSeeLessons(access) || (!access.staff && existing.status !== 'published')) throw lessonNotFound();
        if (!access.staff) throw forbidden('Only the course’s teachers and administrators may change lessons.');
        await repo(tx).lockCourse(existing.course_id);
        const lesson = await repo(tx).findLesson(id);
        if (!lesson) throw lessonNotFound();
        if (expected !== undefined && expected !== lesson.version) throw versionMismatch(lesson.version);
        if (patch.prerequisiteLessonIds) await checkLessonPrerequisites(tx, lesson.course_id, id, patch.prerequisiteLessonIds);
        const changes: Partial<LessonRow> = {
          ...(patch.title !== undefined ? { title: patch.title.trim() } : {}),
          ...(patch.content !== undefined ? { content: patch.content } : {}),
          ...(patch.videoUrl !== undefined ? { video_url: patch.videoUrl } : {}),
          ...(patch.minutes !== undefined ? { minutes: patch.minutes } : {}),
          ...(patch.status !== undefined ? { status: patch.status } : {}),
          ...(patch.required !== undefined ? { required: patch.required ? 1 : 0 } : {}),
          ...(patch.prerequisiteLessonIds !== undefined ? { prerequisites: JSON.stringify(patch.prerequisiteLessonIds) } : {}),
          updated_at: iso(),
        };
        if (!(await repo(tx).updateLesson(id, lesson.version, changes))) throw versionMismatch(lesson.version + 1);
        if (patch.position !== undefined) await placeLesson(tx, lesson.course_id, id, patch.position);
        const stored = (await repo(tx).findLesson(id))!;
        await events.append<LessonPayload>(tx, { type: LearningEvents.lessonUpdated, scopes: [`course:${lesson.course_id}`], payload: { lessonId: id, courseId: lesson.course_id, version: stored.version }, actorId: principal.userId });
        return lessonView(stored);
      });
    },

    async deleteLesson(principal: Principal, id: string, expected: number | undefined): Promise<void> {
      const existing = await repo().findLesson(id);
      if (!existing) throw lessonNotFound();
      await withTransaction(db, async (tx) => {
        const access = await accessOf(tx, principal, existing.course_id);
        if (!access || !canSeeLessons(access) || (!access.staff && existing.status !== 'published')) throw lessonNotFound();
        if (!access.staff) throw forbidden('Only the course’s teachers and administrators may delete lessons.');
        await repo(tx).lockCourse(existing.course_id);
        const lesson = await repo(tx).findLesson(id);
        if (!lesson) throw lessonNotFound();
        if (expected !== undefined && expected !== lesson.version) throw versionMismatch(lesson.version);
        await repo(tx).deleteLesson(id);
        // Close the gap so positions stay 1..n; drop the deleted lesson from others' prerequisites.
        for (const [i, other] of (await repo(tx).lessonsOf(lesson.course_id)).entries()) {
          const prerequisites = parseList(other.prerequisites);
          if (prerequisites.includes(id)) await repo(tx).updateLesson(other.id, other.version, { prerequisites: JSON.stringify(prerequisites.filter((p) => p !== id)) });
          if (other.position !== i + 1) await repo(tx).setLessonPosition(other.id, i + 1);
        }
        await events.append<LessonPayload>(tx, { type: LearningEvents.lessonDeleted, scopes: [`course:${lesson.course_id}`], payload: { lessonId: id, courseId: lesson.course_id, version: lesson.version }, actorId: principal.userId });
      });
    },
  };
}

export type CourseService = ReturnType<typeof createCourseService>;
