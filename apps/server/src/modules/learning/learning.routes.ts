import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { expectedVersion, setEtag } from '../../core/http/etag.js';
import { Page } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import type { CourseService } from './courses.service.js';
import { Course, CourseCreate, CoursePatch, CourseQuery, IdParams, Lesson, LessonCreate, LessonPatch, LessonQuery } from './learning.schemas.js';

const courseTags = ['courses'];
const lessonTags = ['lessons'];
/** Teachers (and administrators) create courses; ownership decides the rest, in the service. */
const teach = { permission: 'course:create' } as const;

/** Courses and their lessons. */
export function courseRoutes(courses: CourseService) {
  return async (app: AppInstance) => {
    app.addSchema(Course);
    app.addSchema(Lesson);

    app.get(
      '/courses',
      {
        config: { access: 'public' },
        schema: {
          tags: courseTags,
          summary: 'List and search courses',
          description:
            'The catalog (published public courses) by default; `scope=teaching` / `enrolled` / `all` (administrators) for the caller’s own lists. `q` is full-text search (every word must match); filters combine with AND. Keyset pagination.',
          querystring: CourseQuery,
          response: { 200: Page(Type.Ref(Course)) },
        },
      },
      async (request) => courses.list(request.principal, request.query),
    );

    app.post(
      '/courses',
      {
        config: { access: teach },
        schema: {
          tags: courseTags,
          summary: 'Create a course',
          description: 'The caller becomes its owner. Starts as a draft unless `status` says otherwise. The slug is derived from the title when omitted.',
          body: CourseCreate,
          response: { 201: Type.Ref(Course) },
        },
      },
      async (request, reply) => {
        const course = await courses.create(requirePrincipal(request), request.body);
        setEtag(reply, course.version);
        return reply.code(201).header('location', `/api/v1/courses/${course.id}`).send(course);
      },
    );

    app.get(
      '/courses/:id',
      {
        config: { access: 'public' },
        schema: { tags: courseTags, summary: 'Read a course', description: 'Drafts only for their teachers and administrators (404 for others).', params: IdParams, response: { 200: Type.Ref(Course) } },
      },
      async (request, reply) => {
        const course = await courses.get(request.principal, request.params.id);
        setEtag(reply, course.version);
        return course;
      },
    );

    app.patch(
      '/courses/:id',
      {
        config: { access: teach },
        schema: {
          tags: courseTags,
          summary: 'Change a course',
          description: 'Owner, co-teachers and administrators; only the owner or an administrator may change `coTeacherIds`. Accepts If-Match (412 on mismatch).',
          params: IdParams,
          body: CoursePatch,
          response: { 200: Type.Ref(Course) },
        },
      },
      async (request, reply) => {
        const course = await courses.update(requirePrincipal(request), request.params.id, expectedVersion(request), request.body);
        setEtag(reply, course.version);
        return course;
      },
    );

    app.delete(
      '/courses/:id',
      {
        config: { access: teach },
        schema: {
          tags: courseTags,
          summary: 'Delete a course',
          description: 'Owner or administrator; refused (409) while it has active students: archive it instead. Accepts If-Match.',
          params: IdParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await courses.remove(requirePrincipal(request), request.params.id, expectedVersion(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/courses/:id/lessons',
      {
        config: { access: 'public' },
        schema: {
          tags: lessonTags,
          summary: 'List a course’s lessons in order',
          description: 'Published lessons for whoever may see the course (private courses: active students only); drafts too for its teachers.',
          params: IdParams,
          querystring: LessonQuery,
          response: { 200: Page(Type.Ref(Lesson)) },
        },
      },
      async (request) => courses.listLessons(request.principal, request.params.id, request.query),
    );

    app.post(
      '/courses/:id/lessons',
      {
        config: { access: teach },
        schema: {
          tags: lessonTags,
          summary: 'Add a lesson',
          description: 'Appended at the end unless `position` is given. Course teachers and administrators.',
          params: IdParams,
          body: LessonCreate,
          response: { 201: Type.Ref(Lesson) },
        },
      },
      async (request, reply) => {
        const lesson = await courses.createLesson(requirePrincipal(request), request.params.id, request.body);
        setEtag(reply, lesson.version);
        return reply.code(201).header('location', `/api/v1/lessons/${lesson.id}`).send(lesson);
      },
    );

    app.get(
      '/lessons/:id',
      { config: { access: 'public' }, schema: { tags: lessonTags, summary: 'Read a lesson', params: IdParams, response: { 200: Type.Ref(Lesson) } } },
      async (request, reply) => {
        const lesson = await courses.getLesson(request.principal, request.params.id);
        setEtag(reply, lesson.version);
        return lesson;
      },
    );

    app.patch(
      '/lessons/:id',
      {
        config: { access: teach },
        schema: {
          tags: lessonTags,
          summary: 'Change or move a lesson',
          description: '`position` moves it (the others shift). Course teachers and administrators. Accepts If-Match.',
          params: IdParams,
          body: LessonPatch,
          response: { 200: Type.Ref(Lesson) },
        },
      },
      async (request, reply) => {
        const lesson = await courses.updateLesson(requirePrincipal(request), request.params.id, expectedVersion(request), request.body);
        setEtag(reply, lesson.version);
        return lesson;
      },
    );

    app.delete(
      '/lessons/:id',
      { config: { access: teach }, schema: { tags: lessonTags, summary: 'Delete a lesson', description: 'Course teachers and administrators. Accepts If-Match.', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await courses.deleteLesson(requirePrincipal(request), request.params.id, expectedVersion(request));
        return reply.code(204).send(null);
      },
    );
  };
}
