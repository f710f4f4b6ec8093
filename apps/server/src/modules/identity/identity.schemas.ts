import { Type, type Static } from '@sinclair/typebox';
import { PASSWORD_MAX_LENGTH } from './passwords.js';
import { ROLES } from './permissions.js';

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254, description: 'Compared case-insensitively.' });
const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH, description: 'Any Unicode; at least AUTH_PASSWORD_MIN_LENGTH characters (10 by default), at most 1024.' });
const DisplayName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const OpaqueToken = Type.String({ minLength: 10, maxLength: 200 });
const DateTime = Type.String({ format: 'date-time' });
const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const TimeZone = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+\\-/]+$', description: 'IANA time zone, e.g. `America/Los_Angeles`.' });

export const RefreshTransport = Type.Union([Type.Literal('body'), Type.Literal('cookie')], {
  description: '`body` (mobile, default): the refresh token is in the response. `cookie` (web): it is set as an HttpOnly cookie and left out of the body.',
});

export const RegisterBody = Type.Object({ email: Email, password: Password, displayName: DisplayName }, { additionalProperties: false });
export const LoginBody = Type.Object(
  {
    email: Email,
    password: Password,
    device: Type.Optional(Type.String({ maxLength: 100, description: 'A name for this device, shown in the session list.' })),
    refreshTransport: Type.Optional(RefreshTransport),
  },
  { additionalProperties: false },
);
export const RefreshBody = Type.Object(
  {
    refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Omit when the refresh token is in the cookie (then send `X-CSRF: 1`).' })),
    refreshTransport: Type.Optional(RefreshTransport),
  },
  { additionalProperties: false },
);
export const TokenBody = Type.Object({ token: OpaqueToken }, { additionalProperties: false });
export const EmailBody = Type.Object({ email: Email }, { additionalProperties: false });
export const ResendBody = Type.Object({ email: Type.Optional(Email) }, { additionalProperties: false });
export const ResetBody = Type.Object({ token: OpaqueToken, newPassword: Password }, { additionalProperties: false });
export const ChangePasswordBody = Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false });
export const ChangeEmailBody = Type.Object({ password: Password, newEmail: Email }, { additionalProperties: false });
export const MePatch = Type.Object(
  {
    displayName: Type.Optional(DisplayName),
    timeZone: Type.Optional(Type.Union([TimeZone, Type.Null()], { description: 'An IANA zone name (its case corrected), or `null` to unset it (UTC).' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type MePatch = Static<typeof MePatch>;

export const Accepted = Type.Object({ status: Type.Literal('accepted'), message: Type.String() }, { $id: 'IdentityAccepted', additionalProperties: false });

export const User = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    emailVerified: Type.Boolean(),
    displayName: Type.String(),
    roles: Type.Array(Type.String()),
    permissions: Type.Array(Type.String()),
    mfaEnabled: Type.Boolean(),
    timeZone: Type.Union([Type.String(), Type.Null()], {
      description: 'The user\'s IANA time zone, or null (not set: UTC). Learning streaks count its days; notification quiet hours and digests use it unless the notification preferences name a zone of their own.',
    }),
    createdAt: DateTime,
    version: Type.Integer(),
  },
  { $id: 'IdentityUser', additionalProperties: false },
);
export type UserView = Static<typeof User>;

export const AdminUser = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    emailVerified: Type.Boolean(),
    displayName: Type.String(),
    roles: Type.Array(Type.String()),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('deleted')]),
    kind: Type.Union([Type.Literal('person'), Type.Literal('service')], { description: 'A service account acts only through API keys issued by an admin.' }),
    createdAt: DateTime,
    updatedAt: DateTime,
    version: Type.Integer(),
  },
  { $id: 'IdentityAdminUser', additionalProperties: false },
);
export type AdminUserView = Static<typeof AdminUser>;

export const Tokens = Type.Object(
  {
    tokenType: Type.Literal('Bearer'),
    accessToken: Type.String(),
    expiresIn: Type.Integer({ description: 'Seconds until the access token expires.' }),
    accessTokenExpiresAt: DateTime,
    refreshToken: Type.Optional(Type.String({ description: 'Absent when it was set as a cookie.' })),
    sessionId: Type.String(),
    sessionExpiresAt: DateTime,
    user: Type.Optional(User),
  },
  { $id: 'IdentityTokens', additionalProperties: false },
);
export type TokensView = Static<typeof Tokens>;

export const Session = Type.Object(
  {
    id: Type.String(),
    device: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    createdAt: DateTime,
    lastUsedAt: DateTime,
    expiresAt: DateTime,
    current: Type.Boolean({ description: 'The session of the access token that asked.' }),
  },
  { $id: 'IdentitySession', additionalProperties: false },
);
export type SessionView = Static<typeof Session>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const ServiceAccountKeyParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), keyId: Type.String({ minLength: 1, maxLength: 64 }) });
export const ServiceAccountCreate = Type.Object(
  { displayName: DisplayName, roles: Type.Array(Role, { minItems: 1, maxItems: 3, uniqueItems: true }) },
  { additionalProperties: false },
);

export const Jwks = Type.Object(
  {
    keys: Type.Array(
      Type.Object({ kty: Type.String(), crv: Type.String(), x: Type.String(), kid: Type.String(), alg: Type.String(), use: Type.String() }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

// ── admin ───────────────────────────────────────────────────────────────────
export const AdminUserQuery = Type.Object({
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Part of the email or display name.' })),
  role: Type.Optional(Role),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
  kind: Type.Optional(Type.Union([Type.Literal('person'), Type.Literal('service')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
});
export const AdminUserPatch = Type.Object(
  {
    roles: Type.Optional(Type.Array(Role, { minItems: 1, maxItems: 3, uniqueItems: true })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
    displayName: Type.Optional(DisplayName),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const AuditEvent = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    actorId: Type.Union([Type.String(), Type.Null()]),
    targetId: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    details: Type.Record(Type.String(), Type.Unknown()),
    createdAt: DateTime,
  },
  { $id: 'IdentityAuditEvent', additionalProperties: false },
);
export type AuditEventView = Static<typeof AuditEvent>;
export const AuditQuery = Type.Object({
  userId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Events where this user is the actor or the target.' })),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
});
export const SetupBody = Type.Object(
  { setupToken: Type.String({ minLength: 10, maxLength: 200 }), email: Email, password: Password, displayName: DisplayName },
  { additionalProperties: false },
);

// ── API keys ────────────────────────────────────────────────────────────────
export const ApiKey = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
    permissions: Type.Array(Type.String()),
    createdAt: DateTime,
    expiresAt: Type.Union([DateTime, Type.Null()]),
    lastUsedAt: Type.Union([DateTime, Type.Null()]),
  },
  { $id: 'IdentityApiKey', additionalProperties: false },
);
export type ApiKeyView = Static<typeof ApiKey>;
export const ApiKeyCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    permissions: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50, uniqueItems: true, description: 'A subset of your own permissions.' }),
    expiresAt: Type.Optional(DateTime),
  },
  { additionalProperties: false },
);
export const ApiKeyCreated = Type.Object(
  { apiKey: ApiKey, key: Type.String({ description: 'The key itself (`lyk_…`). Shown this once; only its hash is stored.' }) },
  { additionalProperties: false },
);
