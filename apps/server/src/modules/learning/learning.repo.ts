import { sql, type Kysely, type Transaction } from 'kysely';
import type { Db, Tx } from '../../core/db/database.js';
import type { CourseRow, EnrollmentRow, EnrollmentStatus, LearningTables, LessonRow } from './learning.tables.js';

type LDb = Kysely<LearningTables> | Transaction<LearningTables>;

export type CourseSort = '-createdAt' | 'createdAt' | 'title' | '-title';

export interface CourseFilter {
  /** Word tokens of the full-text query (letters and digits only); every one must match. */
  words?: string[];
  level?: string;
  tag?: string;
  language?: string;
  teacherId?: string;
  /** Only these statuses / visibilities (undefined: any). */
  statuses?: CourseRow['status'][];
  visibilities?: CourseRow['visibility'][];
  /** Courses the user owns or co-teaches. */
  teachingUserId?: string;
  /** Courses the user is an active student of. */
  enrolledUserId?: string;
  sort: CourseSort;
  /** Keyset: the sort value and id of the last item of the previous page. */
  after?: [string, string];
  limit: number;
}

/** A course as listed: everything its view shows, not its search text (a second copy of its longest fields). */
export type ListedCourseRow = Omit<CourseRow, 'search_text'>;
const LISTED_COLUMNS = [
  'id', 'slug', 'title', 'summary', 'description', 'level', 'tags', 'language', 'status', 'visibility', 'owner_id', 'capacity',
  'enrolled_count', 'enroll_opens_at', 'enroll_closes_at', 'prerequisites', 'version', 'created_at', 'updated_at', 'published_at',
] as const satisfies ReadonlyArray<keyof ListedCourseRow>;

/**
 * Takes the locks of these students' enrollments in the course, in user order (PostgreSQL; SQLite
 * runs one transaction at a time). Every write that may complete a course takes it first, so the
 * last of two racing writes sees the other's and issues the certificate. Apart from learningRepo:
 * a submission takes it and needs nothing else of the repo, which is costly to build.
 */
export async function lockEnrollments(handle: Db | Tx, dialect: 'sqlite' | 'postgres', courseId: string, userIds: string[]): Promise<void> {
  if (dialect !== 'postgres' || !userIds.length) return;
  const db = handle as unknown as LDb;
  await db.selectFrom('learning_enrollment').select('id').where('course_id', '=', courseId).where('user_id', 'in', [...new Set(userIds)]).orderBy('user_id').forNoKeyUpdate().execute();
}

/** Kysely queries on the learning module's tables only. */
export function learningRepo(handle: Db | Tx, dialect: 'sqlite' | 'postgres') {
  const db = handle as unknown as LDb;

  const searchCondition = (words: string[]) => {
    if (dialect === 'postgres') {
      // plainto_tsquery ignores every operator character: user input cannot break the query.
      return sql<boolean>`to_tsvector('simple', learning_course.search_text) @@ plainto_tsquery('simple', ${words.join(' ')})`;
    }
    // FTS5: each word as a quoted string (quotes doubled), all of them required.
    const match = words.map((w) => `"${w.replace(/"/g, '""')}"`).join(' AND ');
    return sql<boolean>`learning_course.id in (select course_id from learning_course_fts where learning_course_fts match ${match})`;
  };

  // Written out rather than built: this is on the catalog's hot path, and building a subquery costs more than running it.
  const coTeacherIdsJson = (dialect === 'postgres'
    ? sql<string>`(select coalesce(json_agg(user_id order by created_at, user_id)::text, '[]') from learning_course_teacher where course_id = learning_course.id)`
    : sql<string>`(select json_group_array(user_id order by created_at, user_id) from learning_course_teacher where course_id = learning_course.id)`
  ).as('co_teacher_ids');

  return {
    async insertCourse(row: CourseRow, coTeacherIds: string[], tags: string[]) {
      await db.insertInto('learning_course').values(row).execute();
      await this.setCoTeachers(row.id, coTeacherIds, row.created_at);
      await this.setTags(row.id, tags);
      await this.indexCourse(row.id, row.search_text);
    },

    async indexCourse(id: string, searchText: string) {
      if (dialect !== 'sqlite') return;
      await sql`delete from learning_course_fts where course_id = ${id}`.execute(db);
      await sql`insert into learning_course_fts (course_id, search_text) values (${id}, ${searchText})`.execute(db);
    },

    async unindexCourse(id: string) {
      if (dialect === 'sqlite') await sql`delete from learning_course_fts where course_id = ${id}`.execute(db);
    },

    async setCoTeachers(courseId: string, userIds: string[], now: string) {
      await db.deleteFrom('learning_course_teacher').where('course_id', '=', courseId).execute();
      if (userIds.length) await db.insertInto('learning_course_teacher').values(userIds.map((user_id) => ({ course_id: courseId, user_id, created_at: now }))).execute();
    },

    async setTags(courseId: string, tags: string[]) {
      await db.deleteFrom('learning_course_tag').where('course_id', '=', courseId).execute();
      const unique = [...new Set(tags.map((t) => t.toLowerCase()))];
      if (unique.length) await db.insertInto('learning_course_tag').values(unique.map((tag) => ({ course_id: courseId, tag }))).execute();
    },

    findCourse: (id: string) => db.selectFrom('learning_course').selectAll().where('id', '=', id).executeTakeFirst(),

    findCourses: (ids: readonly string[]) => (ids.length ? db.selectFrom('learning_course').selectAll().where('id', 'in', [...ids]).execute() : Promise.resolve([])),

    findCourseBySlug: (slug: string) => db.selectFrom('learning_course').select('id').where('slug', '=', slug).executeTakeFirst(),

    async coTeachers(courseIds: readonly string[]): Promise<Map<string, string[]>> {
      const result = new Map<string, string[]>();
      if (!courseIds.length) return result;
      const rows = await db.selectFrom('learning_course_teacher').select(['course_id', 'user_id']).where('course_id', 'in', [...courseIds]).orderBy('created_at').orderBy('user_id').execute();
      for (const r of rows) result.set(r.course_id, [...(result.get(r.course_id) ?? []), r.user_id]);
      return result;
    },

    async isCoTeacher(courseId: string, userId: string): Promise<boolean> {
      return Boolean(await db.selectFrom('learning_course_teacher').select('user_id').where('course_id', '=', courseId).where('user_id', '=', userId).executeTakeFirst());
    },

    /** Updates when the version still matches; false when someone changed it first. */
    async updateCourse(id: string, version: number, changes: Partial<CourseRow>): Promise<boolean> {
      const result = await db.updateTable('learning_course').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async deleteCourse(id: string) {
      await this.unindexCourse(id);
      await db.deleteFrom('learning_enrollment').where('course_id', '=', id).execute();
      await db.deleteFrom('learning_invitation').where('course_id', '=', id).execute();
      await db.deleteFrom('learning_lesson').where('course_id', '=', id).execute();
      await db.deleteFrom('learning_course_tag').where('course_id', '=', id).execute();
      await db.deleteFrom('learning_course_teacher').where('course_id', '=', id).execute();
      await db.deleteFrom('learning_course').where('id', '=', id).execute();
    },

    /** A page of courses, each with its co-teachers' ids (oldest first) as a JSON array: one statement, whatever the page size. */
    async listCourses(f: CourseFilter): Promise<Array<ListedCourseRow & { co_teacher_ids: string }>> {
      let q = db.selectFrom('learning_course').select(LISTED_COLUMNS).select(coTeacherIdsJson);
      if (f.words?.length) q = q.where(searchCondition(f.words));
      if (f.level) q = q.where('level', '=', f.level);
      if (f.language) q = q.where('language', '=', f.language);
      if (f.tag) q = q.where('id', 'in', db.selectFrom('learning_course_tag').select('course_id').where('tag', '=', f.tag.toLowerCase()));
      if (f.statuses) q = q.where('status', 'in', f.statuses);
      if (f.visibilities) q = q.where('visibility', 'in', f.visibilities);
      for (const userId of [f.teacherId, f.teachingUserId]) {
        if (userId) q = q.where((eb) => eb.or([eb('owner_id', '=', userId), eb('id', 'in', db.selectFrom('learning_course_teacher').select('course_id').where('user_id', '=', userId))]));
      }
      if (f.enrolledUserId) {
        q = q.where('id', 'in', db.selectFrom('learning_enrollment').select('course_id').where('user_id', '=', f.enrolledUserId).where('status', '=', 'active'));
      }
      const column = f.sort === 'title' || f.sort === '-title' ? 'title' : 'created_at';
      const desc = f.sort.startsWith('-');
      if (f.after) {
        const [value, id] = f.after;
        q = q.where((eb) => eb.or([eb(column, desc ? '<' : '>', value), eb.and([eb(column, '=', value), eb('id', desc ? '<' : '>', id)])]));
      }
      return q.orderBy(column, desc ? 'desc' : 'asc').orderBy('id', desc ? 'desc' : 'asc').limit(f.limit).execute();
    },

    // ── lessons ────────────────────────────────────────────────────────
    findLesson: (id: string) => db.selectFrom('learning_lesson').selectAll().where('id', '=', id).executeTakeFirst(),

    lessonsOf: (courseId: string) => db.selectFrom('learning_lesson').selectAll().where('course_id', '=', courseId).orderBy('position').orderBy('id').execute(),

    async listLessons(courseId: string, onlyPublished: boolean, afterPosition: number | undefined, limit: number): Promise<LessonRow[]> {
      let q = db.selectFrom('learning_lesson').selectAll().where('course_id', '=', courseId);
      if (onlyPublished) q = q.where('status', '=', 'published');
      if (afterPosition !== undefined) q = q.where('position', '>', afterPosition);
      return q.orderBy('position').orderBy('id').limit(limit).execute();
    },

    insertLesson: (row: LessonRow) => db.insertInto('learning_lesson').values(row).execute(),

    async updateLesson(id: string, version: number, changes: Partial<LessonRow>): Promise<boolean> {
      const result = await db.updateTable('learning_lesson').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    setLessonPosition: (id: string, position: number) => db.updateTable('learning_lesson').set({ position }).where('id', '=', id).execute(),

    deleteLesson: (id: string) => db.deleteFrom('learning_lesson').where('id', '=', id).execute(),

    /** Takes the course row's lock (PostgreSQL) so that concurrent lesson writes of one course queue up. */
    async lockCourse(courseId: string): Promise<CourseRow | undefined> {
      let q = db.selectFrom('learning_course').selectAll().where('id', '=', courseId);
      if (dialect === 'postgres') q = q.forUpdate();
      return q.executeTakeFirst();
    },

    // ── enrollments ────────────────────────────────────────────────────
    findEnrollment: (courseId: string, userId: string) =>
      db.selectFrom('learning_enrollment').selectAll().where('course_id', '=', courseId).where('user_id', '=', userId).executeTakeFirst(),

    insertEnrollment: (row: EnrollmentRow) => db.insertInto('learning_enrollment').values(row).execute(),

    async updateEnrollment(id: string, version: number, changes: Partial<EnrollmentRow>): Promise<boolean> {
      const result = await db.updateTable('learning_enrollment').set({ ...changes, version: version + 1 }).where('id', '=', id).where('version', '=', version).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Takes a seat: one more active student, unless the course is full. Atomic on both databases. */
    async takeSeat(courseId: string): Promise<boolean> {
      const result = await db
        .updateTable('learning_course')
        .set((eb) => ({ enrolled_count: eb('enrolled_count', '+', 1) }))
        .where('id', '=', courseId)
        .where((eb) => eb.or([eb('capacity', 'is', null), eb('enrolled_count', '<', eb.ref('capacity'))]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    releaseSeat: (courseId: string) =>
      db.updateTable('learning_course').set((eb) => ({ enrolled_count: eb('enrolled_count', '-', 1) })).where('id', '=', courseId).where('enrolled_count', '>', 0).execute(),

    async listEnrollments(courseId: string, status: EnrollmentStatus | undefined, afterId: string | undefined, limit: number): Promise<EnrollmentRow[]> {
      let q = db.selectFrom('learning_enrollment').selectAll().where('course_id', '=', courseId);
      if (status) q = q.where('status', '=', status);
      if (afterId) q = q.where('id', '>', afterId);
      return q.orderBy('id').limit(limit).execute();
    },

    /** Courses the user owns, co-teaches or is actively enrolled in. */
    async courseIdsOf(userId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('learning_course')
        .select('id')
        .where('owner_id', '=', userId)
        .union(db.selectFrom('learning_course_teacher').select('course_id as id').where('user_id', '=', userId))
        .union(db.selectFrom('learning_enrollment').select('course_id as id').where('user_id', '=', userId).where('status', '=', 'active'))
        .execute();
      return rows.map((r) => r.id);
    },

    async activeStudentIds(courseId: string): Promise<string[]> {
      const rows = await db.selectFrom('learning_enrollment').select('user_id').where('course_id', '=', courseId).where('status', '=', 'active').orderBy('user_id').execute();
      return rows.map((r) => r.user_id);
    },

    async countActive(courseId: string): Promise<number> {
      const row = await db.selectFrom('learning_enrollment').select((eb) => eb.fn.countAll<number>().as('n')).where('course_id', '=', courseId).where('status', '=', 'active').executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  };
}

export type LearningRepo = ReturnType<typeof learningRepo>;
