/**
 * The authorization matrix: for every route of the OpenAPI document, who may call it. The test in
 * access-matrix.test.ts calls each route as each actor and checks that exactly the actors listed
 * here get through the access rules, and that a refused write changed nothing. A new route needs a
 * row here (the test fails until it has one), not new test code.
 */
import type { IdentityTestApp, SignedIn } from '../support/identity.js';
import { MODULE_POLICIES } from './policies/index.js';

export const ACTORS = ['guest', 'studentA', 'studentB', 'teacherOwner', 'teacherOther', 'admin', 'scopedKey'] as const;
export type Actor = (typeof ACTORS)[number];

/** What the cast owns, created before the matrix runs. `scopedKey` is studentA's key limited to `profile:edit`. */
export interface Fixtures {
  users: Record<Exclude<Actor, 'guest' | 'scopedKey'>, SignedIn>;
  /** A plain student the administrator's actions are aimed at. */
  victim: SignedIn;
  /** A second session of studentA (opened again whenever studentA signs in again). */
  sessionOfA: string;
  /** An API key of studentA (not the scoped one the matrix signs in with). */
  keyOfA: string;
  serviceAccount: string;
  serviceAccountKey: string;
  job: string;
  /** What the modules' policies created (`course`, `conversation`, …), by the names their setups return. */
  ids: Record<string, string>;
}

/** What a module's setup gets to create its fixtures with. */
export interface PolicyContext {
  t: IdentityTestApp;
  users: Fixtures['users'];
  /** Calls a route as a signed-in user; fails the test unless it answers 2xx; returns the JSON body. */
  call(actor: keyof Fixtures['users'], method: 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'GET', url: string, payload?: unknown): Promise<any>;
  /** The fixture ids the modules before this one created (modules run in the order of policies/index.ts). */
  ids: Record<string, string>;
}

/** One module's rows of the matrix, and the fixtures they act on. */
export interface ModulePolicy {
  /** Creates what the rows act on (the teacher owner's course, studentA's post, …); returns their ids by name. */
  setup?: (ctx: PolicyContext) => Promise<Record<string, string>>;
  rules: Record<string, Rule>;
  /** Tables that change on reads (presence, last seen) and so stay out of the "refused write changed nothing" digest. */
  volatileTables?: string[];
}

export interface Rule {
  /** Who gets through the access rules; everyone else is refused (401 for a guest, else 403, or 404 for what they may not see). */
  allow: readonly Actor[] | 'everyone';
  /** Path parameters: the resource each actor tries to reach. */
  params?: (f: Fixtures) => Record<string, string>;
  /** A body the allowed callers can act on, when one generated from the schema would not do. */
  body?: (f: Fixtures, actor: Actor) => unknown;
  /** The call ends or changes the caller's credentials: the matrix signs the caller in again after it. */
  renewsCredentials?: boolean;
  /** A stream that stays open when allowed: only refusals are checked. */
  stream?: boolean;
}

const signedIn = ['studentA', 'studentB', 'teacherOwner', 'teacherOther', 'admin'] as const;
const anyCaller = [...signedIn, 'scopedKey'] as const;
const ownerOnly = ['studentA'] as const;
const admins = ['admin'] as const;
const password = (f: Fixtures, actor: Actor) => (actor === 'guest' || actor === 'scopedKey' ? 'wrong password 123' : f.users[actor].password);

const CORE_AND_IDENTITY: Record<string, Rule> = {
  // ── core ─────────────────────────────────────────────────────────────
  'GET /health/live': { allow: 'everyone' },
  'GET /health/ready': { allow: 'everyone' },
  'GET /metrics': { allow: 'everyone' },
  'GET /.well-known/jwks.json': { allow: 'everyone' },
  'GET /api/v1/admin/jobs': { allow: admins },
  'POST /api/v1/admin/jobs/{id}/retry': { allow: admins, params: (f) => ({ id: f.job }) },
  'GET /api/v1/events/stream': { allow: anyCaller, stream: true },

  // ── identity: public flows ───────────────────────────────────────────
  'POST /api/v1/auth/register': { allow: 'everyone' },
  'POST /api/v1/auth/login': { allow: 'everyone' },
  'POST /api/v1/auth/refresh': { allow: 'everyone' },
  'POST /api/v1/auth/email/verify': { allow: 'everyone' },
  'POST /api/v1/auth/email/resend': { allow: 'everyone' },
  'POST /api/v1/auth/password/forgot': { allow: 'everyone' },
  'POST /api/v1/auth/password/reset': { allow: 'everyone' },
  'POST /api/v1/auth/mfa/totp/verify': { allow: 'everyone' },
  'POST /api/v1/auth/passkeys/login/options': { allow: 'everyone' },
  'POST /api/v1/auth/passkeys/login': { allow: 'everyone' },
  'GET /api/v1/auth/oidc/providers': { allow: 'everyone' },
  'GET /api/v1/auth/oidc/{provider}/authorize': { allow: 'everyone', params: () => ({ provider: 'school' }) },
  'GET /api/v1/auth/oidc/{provider}/callback': { allow: 'everyone', params: () => ({ provider: 'school' }) },
  'POST /api/v1/auth/oidc/exchange': { allow: 'everyone' },
  'POST /api/v1/admin/setup': { allow: 'everyone' },

  // ── identity: the caller's own account (a session, never an API key) ─
  'GET /api/v1/me': { allow: anyCaller },
  'PATCH /api/v1/me': { allow: signedIn, body: () => ({ displayName: 'Renamed' }) },
  'POST /api/v1/auth/logout': { allow: signedIn, renewsCredentials: true },
  'POST /api/v1/auth/logout-all': { allow: signedIn, renewsCredentials: true },
  'GET /api/v1/auth/sessions': { allow: signedIn },
  'DELETE /api/v1/auth/sessions/{id}': { allow: ownerOnly, params: (f) => ({ id: f.sessionOfA }) },
  'POST /api/v1/auth/email/change': { allow: signedIn, body: (f, actor) => ({ password: password(f, actor), newEmail: `changed-${actor}-${Date.now()}@example.com` }) },
  'POST /api/v1/auth/password/change': { allow: signedIn, body: (f, actor) => ({ currentPassword: password(f, actor), newPassword: password(f, actor) }), renewsCredentials: true },
  'GET /api/v1/api-keys': { allow: signedIn },
  'POST /api/v1/api-keys': { allow: signedIn, body: () => ({ name: 'matrix', permissions: ['profile:edit'] }) },
  'GET /api/v1/api-keys/{id}': { allow: ownerOnly, params: (f) => ({ id: f.keyOfA }) },
  'DELETE /api/v1/api-keys/{id}': { allow: ownerOnly, params: (f) => ({ id: f.keyOfA }) },
  'POST /api/v1/auth/mfa/totp/setup': { allow: signedIn, body: (f, actor) => ({ password: password(f, actor) }) },
  'POST /api/v1/auth/mfa/totp/confirm': { allow: signedIn },
  'POST /api/v1/auth/mfa/totp/disable': { allow: signedIn },
  'POST /api/v1/auth/mfa/totp/recovery-codes': { allow: signedIn },
  'POST /api/v1/auth/mfa/step-up': { allow: signedIn },
  'POST /api/v1/auth/passkeys/register/options': { allow: signedIn },
  'POST /api/v1/auth/passkeys/register': { allow: signedIn },
  'GET /api/v1/auth/passkeys': { allow: signedIn },
  'DELETE /api/v1/auth/passkeys/{id}': { allow: [], params: () => ({ id: 'pky_nobody_has_this_one' }) },

  // ── identity: administration ─────────────────────────────────────────
  'GET /api/v1/admin/users': { allow: admins },
  'GET /api/v1/admin/users/{id}': { allow: admins, params: (f) => ({ id: f.victim.userId }) },
  'PATCH /api/v1/admin/users/{id}': { allow: admins, params: (f) => ({ id: f.victim.userId }), body: () => ({ displayName: 'Renamed by admin' }) },
  'DELETE /api/v1/admin/users/{id}': { allow: admins, params: (f) => ({ id: f.victim.userId }) },
  'DELETE /api/v1/admin/users/{id}/sessions': { allow: admins, params: (f) => ({ id: f.victim.userId }) },
  'GET /api/v1/admin/users/{id}/export': { allow: admins, params: (f) => ({ id: f.victim.userId }) },
  'GET /api/v1/admin/audit-events': { allow: admins },
  'POST /api/v1/admin/service-accounts': { allow: admins, body: () => ({ displayName: 'Matrix bot', roles: ['student'] }) },
  'POST /api/v1/admin/service-accounts/{id}/api-keys': { allow: admins, params: (f) => ({ id: f.serviceAccount }), body: () => ({ name: 'matrix', permissions: ['profile:edit'] }) },
  'GET /api/v1/admin/service-accounts/{id}/api-keys': { allow: admins, params: (f) => ({ id: f.serviceAccount }) },
  'DELETE /api/v1/admin/service-accounts/{id}/api-keys/{keyId}': { allow: admins, params: (f) => ({ id: f.serviceAccount, keyId: f.serviceAccountKey }) },
};

export const POLICY: Record<string, Rule> = Object.assign({}, CORE_AND_IDENTITY, ...MODULE_POLICIES.map((p) => p.rules));
