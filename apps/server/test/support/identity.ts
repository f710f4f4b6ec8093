import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import type { MailMessage } from '../../src/core/mail/mailer.js';
import { createTestApp, type TestApp, type TestAppOptions } from './app.js';
import type { IdentityModule } from '../../src/modules/identity/index.js';

/** A clock the test moves by hand (expiries, grace windows, lockouts) instead of sleeping. */
export function manualClock(start = Date.parse('2026-11-22T10:00:00.000Z')) {
  let now = start;
  const clock: Clock & { advance(ms: number): void; set(ms: number): void } = {
    now: () => new Date(now),
    advance: (ms) => void (now += ms),
    set: (ms) => void (now = ms),
  };
  return clock;
}

/** A test app with identity, generous auth rate limits (a test about limits sets its own) and a manual clock. */
export async function identityApp(options: TestAppOptions = {}) {
  const clock = (options.clock as ReturnType<typeof manualClock> | undefined) ?? manualClock();
  const t = await createTestApp({ ...options, clock, env: { AUTH_RATE_LIMIT_MAX: '100000', AUTH_IP_LOCK_THRESHOLD: '100000', ...options.env } });
  const identity = t.modules.find((m) => m.name === 'identity') as IdentityModule;
  return Object.assign(t, { clock, identity });
}

export type IdentityTestApp = Awaited<ReturnType<typeof identityApp>>;

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let counter = 0;
export const uniqueEmail = (name = 'user') => `${name}-${process.pid}-${++counter}@example.com`;
export const GOOD_PASSWORD = 'correct horse battery staple';

/** Mail the app queued for `to`, newest first (read from the job queue: no worker needs to run). */
export async function mailsTo(t: TestApp, to: string): Promise<MailMessage[]> {
  const jobs = [];
  for (let afterId: string | undefined; ; ) {
    const page = await t.core.jobs.list({ limit: 100, afterId });
    jobs.push(...page);
    if (page.length < 100) break;
    afterId = page.at(-1)!.id;
  }
  return jobs
    .filter((j) => j.name === 'core.mail.send' && (j.payload as MailMessage).to === to)
    .map((j) => j.payload as MailMessage);
}

/** The token in the newest link mailed to `to` whose URL contains `path`. */
export async function linkToken(t: TestApp, to: string, path: string): Promise<string> {
  for (const mail of await mailsTo(t, to)) {
    const match = new RegExp(`${path}\\?token=([^\\s]+)`).exec(mail.text);
    if (match) return decodeURIComponent(match[1]!);
  }
  throw new Error(`No ${path} link mailed to ${to}`);
}

export async function register(t: TestApp, input: { email?: string; password?: string; displayName?: string } = {}) {
  const body = { email: input.email ?? uniqueEmail(), password: input.password ?? GOOD_PASSWORD, displayName: input.displayName ?? 'Test User' };
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: body });
  expect(res.statusCode, res.body).toBe(202);
  return body;
}

export function login(t: TestApp, email: string, password = GOOD_PASSWORD, extra: Record<string, unknown> = {}, remoteAddress?: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password, ...extra }, ...(remoteAddress ? { remoteAddress } : {}) });
}

export interface SignedIn {
  email: string;
  password: string;
  userId: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

/** Registers a verified account and signs it in. */
export async function signUp(t: TestApp, input: { email?: string; password?: string; displayName?: string } = {}): Promise<SignedIn> {
  const { email, password } = await register(t, input);
  const token = await linkToken(t, email, 'verify-email');
  const verified = await t.app.inject({ method: 'POST', url: '/api/v1/auth/email/verify', payload: { token } });
  expect(verified.statusCode, verified.body).toBe(200);
  const res = await login(t, email, password);
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json();
  return { email, password, userId: body.user.id, accessToken: body.accessToken, refreshToken: body.refreshToken, sessionId: body.sessionId };
}

/** Makes a user an admin directly through the service (as `lyceum create-admin` would) and signs in. */
export async function signUpAdmin(t: IdentityTestApp): Promise<SignedIn> {
  const email = uniqueEmail('admin');
  await t.identity.admin.createAdmin({ email, password: GOOD_PASSWORD, displayName: 'Admin' });
  const res = await login(t, email);
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json();
  return { email, password: GOOD_PASSWORD, userId: body.user.id, accessToken: body.accessToken, refreshToken: body.refreshToken, sessionId: body.sessionId };
}

export const me = (t: TestApp, accessToken: string) => t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(accessToken) });

export const refresh = (t: TestApp, refreshToken: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });
