import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Principal } from '../../src/core/http/access.js';
import { permissionsOf } from '../../src/modules/identity/index.js';
import type { LearningModule } from '../../src/modules/learning/index.js';
import type { TestAppOptions } from './app.js';
import { bearer, identityApp, login, signUp, signUpAdmin, type IdentityTestApp, type SignedIn } from './identity.js';

/** A test app with identity and learning, a manual clock, and a small cast: two teachers, two students, an admin. */
export async function learningApp(options: TestAppOptions = {}) {
  const t = await identityApp(options);
  const learning = t.modules.find((m) => m.name === 'learning') as LearningModule;
  const admin = await signUpAdmin(t);
  const [teacher, otherTeacher, student, otherStudent] = await Promise.all([signUp(t, { displayName: 'Teacher T' }), signUp(t), signUp(t, { displayName: 'Student S' }), signUp(t)]);
  for (const user of [teacher, otherTeacher]) await makeTeacher(t, admin, user);
  return Object.assign(t, { learning, admin, teacher, otherTeacher, student, otherStudent });
}

export type LearningTestApp = Awaited<ReturnType<typeof learningApp>>;

/** Gives `user` the teacher role and signs them in again (tokens carry roles). */
export async function makeTeacher(t: IdentityTestApp, admin: SignedIn, user: SignedIn) {
  await t.identity.admin.updateUser(admin.userId, user.userId, undefined, { roles: ['teacher'] }, { ip: '127.0.0.1' });
  const res = await login(t, user.email, user.password);
  expect(res.statusCode, res.body).toBe(200);
  user.accessToken = res.json().accessToken;
}

/** Calls the API as `user` (or as a guest when null). */
export function api(t: IdentityTestApp, user: SignedIn | null, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { ...(user ? bearer(user.accessToken) : {}), ...headers },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

/** Creates a course as `teacher` (published and public unless told otherwise) and returns its body. */
export async function createCourse(t: IdentityTestApp, teacher: SignedIn, input: Record<string, unknown> = {}) {
  const res = await api(t, teacher, 'POST', '/courses', { title: 'Algebra basics', status: 'published', visibility: 'public', ...input });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

export async function createLesson(t: IdentityTestApp, teacher: SignedIn, courseId: string, input: Record<string, unknown> = {}) {
  const res = await api(t, teacher, 'POST', `/courses/${courseId}/lessons`, { title: 'Lesson', status: 'published', ...input });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** A principal for calling services directly, as a student who may not exist in identity. */
export const studentPrincipal = (userId: string): Principal => ({ kind: 'user', userId, roles: ['student'], permissions: permissionsOf(['student']) });

/** Events of `type` in the log, oldest first. */
export async function eventsOf(t: IdentityTestApp, type: string) {
  const all = [];
  for (let cursor = 0; ; ) {
    const page = await t.core.events.readSince(cursor, { limit: 500 });
    all.push(...page);
    if (!page.length) break;
    cursor = page.at(-1)!.seq;
  }
  return all.filter((e) => e.type === type);
}
