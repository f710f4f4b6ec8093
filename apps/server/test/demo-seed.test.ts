import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoClock, DEMO_ADMIN_EMAIL, DEMO_DOMAIN, DEMO_PASSWORD, describeDemoAccounts, seedDemo, type DemoClock, type DemoSeedResult } from '../src/flows/demo-seed.js';
import { createTestApp, type TestApp } from './support/app.js';
import { describeEachDialect } from './support/databases.js';
import { bearer, manualClock } from './support/identity.js';

const NOW = Date.parse('2026-11-22T10:00:00.000Z');
const DAY = 86_400_000;
const SMALL = { teachers: 2, students: 5, courses: 2, weeks: 3 };

describeEachDialect('lyceum seed --demo', (dialect) => {
  let t: TestApp;
  let clock: DemoClock;
  let first: DemoSeedResult;
  const deps = () => ({ ...t.product, clock });

  async function signIn(email: string): Promise<string> {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: DEMO_PASSWORD } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().accessToken as string;
  }
  const get = (token: string | null, url: string) => t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: token ? bearer(token) : {} });

  beforeAll(async () => {
    clock = createDemoClock(manualClock(NOW));
    t = await createTestApp({ dialect, clock, env: { AUTH_RATE_LIMIT_MAX: '100000', AUTH_IP_LOCK_THRESHOLD: '100000' } });
    first = await seedDemo(deps(), SMALL);
  }, 120_000);
  afterAll(async () => t?.destroy());

  it('creates the school through the services and reports what it made', () => {
    expect(first.status).toBe('created');
    expect(first.counts).toMatchObject({ teachers: 2, students: 5, courses: 2, quizzes: 2, questions: 16, profiles: 5 });
    expect(first.counts.enrollments).toBeGreaterThanOrEqual(5);
    expect(first.counts.attempts + first.counts.lessonsCompleted).toBeGreaterThan(0);
    expect(first.counts.posts).toBeGreaterThan(0);
    expect(first.counts.conversations).toBeGreaterThan(0);
    expect(first.counts.messages).toBeGreaterThan(0);
    expect(first.accounts.map((a) => a.email)).toEqual(
      expect.arrayContaining([DEMO_ADMIN_EMAIL, `teacher1@${DEMO_DOMAIN}`, `teacher2@${DEMO_DOMAIN}`, `student01@${DEMO_DOMAIN}`, `student05@${DEMO_DOMAIN}`]),
    );
    expect(clock.now().getTime()).toBe(NOW); // the clock is back at the real time
    const printed = describeDemoAccounts(first);
    expect(printed).toContain(DEMO_ADMIN_EMAIL);
    expect(printed).toContain(`Password: ${DEMO_PASSWORD}`);
  });

  it('lets every demo account sign in with the shared password, with its role', async () => {
    const admin = await signIn(DEMO_ADMIN_EMAIL);
    const users = await get(admin, `/admin/users?q=${encodeURIComponent(`@${DEMO_DOMAIN}`)}&limit=100`);
    expect(users.statusCode, users.body).toBe(200);
    const items = users.json().items as Array<{ email: string; roles: string[]; emailVerified: boolean }>;
    expect(items).toHaveLength(1 + 2 + 5);
    expect(items.every((u) => u.emailVerified)).toBe(true);
    expect(items.find((u) => u.email === `teacher1@${DEMO_DOMAIN}`)?.roles).toEqual(['teacher']);
    expect(items.find((u) => u.email === `student03@${DEMO_DOMAIN}`)?.roles).toEqual(['student']);
  });

  it('lists the courses, with quizzes of every question type', async () => {
    const courses = await get(null, '/courses?limit=100');
    expect(courses.statusCode, courses.body).toBe(200);
    const items = courses.json().items as Array<{ id: string; status: string; ownerId: string }>;
    expect(items).toHaveLength(2);
    expect(items.every((c) => c.status === 'published')).toBe(true);
    const teacher = await signIn(`teacher1@${DEMO_DOMAIN}`);
    const teacherId = first.accounts.find((a) => a.email === `teacher1@${DEMO_DOMAIN}`)!.id;
    const own = items.find((c) => c.ownerId === teacherId)!;
    const quizzes = await get(teacher, `/courses/${own.id}/quizzes`);
    expect(quizzes.statusCode, quizzes.body).toBe(200);
    const [quiz] = quizzes.json().items as Array<{ id: string; questionCount: number; status: string }>;
    expect(quiz).toMatchObject({ questionCount: 8, status: 'published' });
    const questions = await get(teacher, `/quizzes/${quiz!.id}/questions`);
    expect(questions.statusCode, questions.body).toBe(200);
    expect(new Set((questions.json().items as Array<{ type: string }>).map((q) => q.type))).toEqual(
      new Set(['single', 'multiple', 'true_false', 'short_text', 'numeric', 'ordering', 'matching', 'free_text']),
    );
  });

  it("shows the same progress to a student and in the teacher's roster, spread over past weeks", async () => {
    const admin = await signIn(DEMO_ADMIN_EMAIL);
    const courses = (await get(null, '/courses?limit=100')).json().items as Array<{ id: string; ownerId: string }>;
    type Entry = { courseId: string; userId: string; displayName: string; activatedAt: string; progress: { lessonsCompleted: number; percent: number } };
    const roster: Entry[] = [];
    for (const c of courses) {
      const res = await get(admin, `/courses/${c.id}/enrollments?limit=100`);
      expect(res.statusCode, res.body).toBe(200);
      roster.push(...res.json().items);
    }
    expect(roster).toHaveLength(first.counts.enrollments);
    expect(roster.reduce((sum, e) => sum + e.progress.lessonsCompleted, 0)).toBe(first.counts.lessonsCompleted);
    const times = roster.map((e) => Date.parse(e.activatedAt));
    expect(Math.max(...times)).toBeLessThan(NOW);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(NOW - 3 * 7 * DAY);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(DAY); // not all at one moment

    // The owning teacher's roster reads the same numbers as the admin's.
    const teacher = await signIn(`teacher1@${DEMO_DOMAIN}`);
    const teacherId = first.accounts.find((a) => a.email === `teacher1@${DEMO_DOMAIN}`)!.id;
    const own = courses.find((c) => c.ownerId === teacherId)!;
    const ownRoster = await get(teacher, `/courses/${own.id}/enrollments?limit=100`);
    expect(ownRoster.statusCode, ownRoster.body).toBe(200);
    expect((ownRoster.json().items as Entry[]).map((e) => [e.userId, e.progress])).toEqual(roster.filter((e) => e.courseId === own.id).map((e) => [e.userId, e.progress]));

    const entry = roster[0]!;
    const email = first.accounts.find((a) => a.displayName === entry.displayName)!.email;
    const mine = await get(await signIn(email), '/me/progress');
    expect(mine.statusCode, mine.body).toBe(200);
    const items = mine.json().items as Array<{ courseId: string; lessonsCompleted: number; percent: number }>;
    expect(items.length).toBe(roster.filter((e) => e.userId === entry.userId).length);
    for (const e of roster.filter((r) => r.userId === entry.userId)) {
      expect(items.find((i) => i.courseId === e.courseId)).toMatchObject({ lessonsCompleted: e.progress.lessonsCompleted, percent: e.progress.percent });
    }
  });

  it('gives the students directory profiles, community posts and chat conversations', async () => {
    const student = await signIn(`student01@${DEMO_DOMAIN}`);
    const profiles = await get(student, '/directory/profiles?limit=100');
    expect(profiles.statusCode, profiles.body).toBe(200);
    expect(profiles.json().items).toHaveLength(5);
    const conversations = await get(student, '/conversations');
    expect(conversations.statusCode, conversations.body).toBe(200);
    expect(conversations.json().items.length).toBeGreaterThan(0); // student01 is in the study group
  });

  it('adds nothing on a second run and says it was already seeded', async () => {
    const before = await counts();
    const again = await seedDemo(deps(), SMALL);
    expect(again.status).toBe('already-seeded');
    expect(again.accounts.map((a) => a.email)).toContain(DEMO_ADMIN_EMAIL);
    expect(describeDemoAccounts(again)).toContain('already seeded');
    expect(await counts()).toEqual(before);
  });

  async function counts() {
    const admin = await signIn(DEMO_ADMIN_EMAIL);
    const users = (await get(admin, `/admin/users?q=${encodeURIComponent(`@${DEMO_DOMAIN}`)}&limit=100`)).json().items.length;
    const courses = (await get(null, '/courses?limit=100')).json().items.length;
    const profiles = (await get(admin, '/directory/profiles?limit=100')).json().items.length;
    return { users, courses, profiles };
  }
});

describe('lyceum seed --demo after an interrupted run', () => {
  it('refuses to write over half-written demo data', async () => {
    const clock = createDemoClock(manualClock(NOW));
    const t = await createTestApp({ clock });
    try {
      await t.product.identity.admin.createAccount({ email: `teacher1@${DEMO_DOMAIN}`, password: DEMO_PASSWORD, displayName: 'Left over' }, ['teacher'], 'test');
      await expect(seedDemo({ ...t.product, clock }, SMALL)).rejects.toThrow(/stopped half-way/);
    } finally {
      await t.destroy();
    }
  });
});
