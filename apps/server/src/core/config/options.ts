/**
 * Every configuration option Lyceum reads, in one table. `loadConfig` parses them and
 * `docs/configuration.md` documents them; a test keeps the two in step.
 */
export type OptionParser<T> = (raw: string) => T;

export interface OptionSpec<T = unknown> {
  name: string;
  description: string;
  example: string;
  /** Default as written in the docs; `undefined` means "unset". */
  default?: string;
  parse: OptionParser<T>;
  secret?: boolean;
}

export class OptionError extends Error {}

export const integer =
  (min: number, max: number): OptionParser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new OptionError(`must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new OptionError(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };

export const boolean: OptionParser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new OptionError(`must be true or false, got "${raw}"`);
};

export const oneOf =
  <T extends string>(...values: T[]): OptionParser<T> =>
  (raw) => {
    const v = raw.trim() as T;
    if (!values.includes(v)) throw new OptionError(`must be one of ${values.join(', ')}, got "${raw}"`);
    return v;
  };

export const text: OptionParser<string> = (raw) => raw.trim();

export const list: OptionParser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export const url =
  (...protocols: string[]): OptionParser<string> =>
  (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw.trim());
    } catch {
      throw new OptionError(`must be a URL, got "${redactUrl(raw)}"`);
    }
    if (protocols.length && !protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      throw new OptionError(`must use ${protocols.map((p) => `${p}://`).join(' or ')}, got "${parsed.protocol}//"`);
    }
    return raw.trim();
  };

export const origins: OptionParser<string[]> = (raw) => {
  const values = list(raw);
  for (const v of values) {
    if (v === '*') continue;
    try {
      const u = new URL(v);
      if (u.origin !== v) throw new Error();
    } catch {
      throw new OptionError(`each entry must be an origin like https://app.example.com (no path), got "${v}"`);
    }
  }
  return values;
};

/** A Twilio SID (`AC…`, `MG…`): it goes into a URL path and a Basic-auth user, so no `/` or `:`. */
export const smsAccountSid: OptionParser<string> = (raw) => {
  const v = raw.trim();
  if (!/^[A-Za-z0-9-]{2,64}$/.test(v)) throw new OptionError(`must be letters, digits and dashes, got "${raw}"`);
  return v;
};

/** An SMS sender: an E.164 number (`+15005550006`) or an alphanumeric sender id (up to 11 characters). */
export const smsSender: OptionParser<string> = (raw) => {
  const v = raw.trim();
  if (!/^\+[1-9][0-9]{6,14}$/.test(v) && !/^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/.test(v)) throw new OptionError(`must be an E.164 number like +15005550006 or an alphanumeric sender id, got "${raw}"`);
  return v;
};

export interface OidcProviderOption {
  name: string;
  displayName: string;
  issuer: string;
  clientId: string;
  clientSecret?: string;
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
}

export const oidcProviders: OptionParser<OidcProviderOption[]> = (raw) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new OptionError('must be a JSON array of providers');
  }
  if (!Array.isArray(parsed)) throw new OptionError('must be a JSON array of providers');
  const names = new Set<string>();
  return parsed.map((entry: Record<string, unknown>, i) => {
    const field = (key: string) => (typeof entry?.[key] === 'string' && (entry[key] as string).trim() ? (entry[key] as string).trim() : undefined);
    const name = field('name');
    if (!name || !/^[a-z][a-z0-9-]{0,31}$/.test(name)) throw new OptionError(`provider ${i + 1}: "name" must be lower-case letters, digits and dashes`);
    if (names.has(name)) throw new OptionError(`provider "${name}" is listed twice`);
    names.add(name);
    const issuer = field('issuer');
    const clientId = field('clientId');
    if (!issuer || !clientId) throw new OptionError(`provider "${name}": "issuer" and "clientId" are required`);
    url('https', 'http')(issuer);
    const method = field('tokenEndpointAuthMethod') ?? (field('clientSecret') ? 'client_secret_basic' : 'none');
    if (!['client_secret_basic', 'client_secret_post', 'none'].includes(method)) throw new OptionError(`provider "${name}": unknown tokenEndpointAuthMethod "${method}"`);
    return { name, displayName: field('displayName') ?? name, issuer, clientId, clientSecret: field('clientSecret'), tokenEndpointAuthMethod: method as OidcProviderOption['tokenEndpointAuthMethod'] };
  });
};

/** Hides the password part of a URL so that config errors never print credentials. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return raw.replace(/\/\/[^@/]*@/, '//***@');
  }
}

const spec = <T>(s: OptionSpec<T>): OptionSpec<T> => s;

export const options = {
  NODE_ENV: spec({
    name: 'NODE_ENV',
    description: 'Runtime environment. In `production`, HOST must be set explicitly.',
    example: 'production',
    default: 'development',
    parse: oneOf('development', 'production', 'test'),
  }),
  PORT: spec({ name: 'PORT', description: 'TCP port of the HTTP API, Socket.io and SSE.', example: '3000', default: '3000', parse: integer(0, 65535) }),
  HOST: spec({
    name: 'HOST',
    description: 'Interface to listen on. Use `0.0.0.0` (or `::`) in a container or behind a load balancer.',
    example: '0.0.0.0',
    default: '127.0.0.1',
    parse: text,
  }),
  DATA_DIR: spec({
    name: 'DATA_DIR',
    description: 'Directory for the SQLite file, generated secrets and local files. Created on start with mode 0700.',
    example: '/var/lib/lyceum',
    default: './data',
    parse: text,
  }),
  DATABASE_URL: spec({
    name: 'DATABASE_URL',
    description: 'PostgreSQL URL for cluster mode. Absent: embedded SQLite at `$DATA_DIR/lyceum.db`. `sqlite:///abs/path.db` or `sqlite::memory:` select SQLite explicitly.',
    example: 'postgres://lyceum:secret@db:5432/lyceum',
    parse: url('postgres', 'postgresql', 'sqlite'),
    secret: true,
  }),
  DATABASE_TIMEOUT_MS: spec({ name: 'DATABASE_TIMEOUT_MS', description: 'PostgreSQL: how long a query, or the wait for a connection, may take before the request fails with 503 (and the connection is replaced). Keeps the API answering when the database stalls.', example: '10000', default: '3000', parse: integer(100, 600_000) }),
  REDIS_TIMEOUT_MS: spec({ name: 'REDIS_TIMEOUT_MS', description: 'How long a Redis command may take before it fails. Rate limits then let requests through rather than hang, and /health/ready reports Redis as down.', example: '2000', default: '1000', parse: integer(100, 600_000) }),
  DATABASE_POOL_MAX: spec({ name: 'DATABASE_POOL_MAX', description: 'Maximum PostgreSQL connections per node.', example: '20', default: '10', parse: integer(1, 500) }),
  SQLITE_SYNCHRONOUS: spec({
    name: 'SQLITE_SYNCHRONOUS',
    description:
      'SQLite `synchronous` pragma. `FULL` (default) syncs the WAL to disk before any commit is acknowledged (off the event loop\'s thread, one sync serving every commit made before it began; see docs/architecture.md), so every acknowledged write survives a power cut; `NORMAL` is faster and survives a process crash but may lose the last commits on power loss.',
    example: 'NORMAL',
    default: 'FULL',
    parse: oneOf('FULL', 'NORMAL'),
  }),
  SQLITE_CACHE_MB: spec({ name: 'SQLITE_CACHE_MB', description: 'SQLite page cache of the one connection, in MiB (SQLite\'s own default is 2). Searches, facet counts and feeds that read many pages run several times faster when the hot part of the database fits.', example: '256', default: '64', parse: integer(2, 65_536) }),
  SQLITE_TEMP_STORE: spec({
    name: 'SQLITE_TEMP_STORE',
    description:
      'Where SQLite keeps temporary data: the savepoint journals of grouped transactions, sorts and temporary tables. `MEMORY` (default) is faster: a transaction that changes more than 16 pages no longer writes its journal to a temporary file, a system call per page (quiz submissions\' inserts took half as long), and searches that sort or group without an index skip temporary files. `FILE` uses less memory under such searches (the 100,000-profile directory benchmark: server RSS about 390 MiB instead of about 690).',
    example: 'FILE',
    default: 'MEMORY',
    parse: oneOf('MEMORY', 'FILE'),
  }),
  SQLITE_BUSY_TIMEOUT_MS: spec({ name: 'SQLITE_BUSY_TIMEOUT_MS', description: 'How long a SQLite statement waits for a lock held by another process (the CLI, a backup).', example: '5000', default: '5000', parse: integer(0, 600000) }),
  MIGRATE_ON_START: spec({ name: 'MIGRATE_ON_START', description: 'Apply pending migrations when the server starts (under a lock, safe with several nodes).', example: 'false', default: 'true', parse: boolean }),
  REDIS_URL: spec({
    name: 'REDIS_URL',
    description: 'Redis for cluster mode: shared rate-limit counters and the Socket.io adapter (typing and presence between nodes). It must answer at start: `serve` waits up to 5 s for it, then stops with one line and exit code 69.',
    example: 'redis://redis:6379',
    parse: url('redis', 'rediss'),
    secret: true,
  }),
  REDIS_PREFIX: spec({ name: 'REDIS_PREFIX', description: 'Prefix of every Redis key and channel, so that several deployments can share one Redis.', example: 'lyceum-staging:', default: 'lyceum:', parse: text }),
  PUBLIC_URL: spec({ name: 'PUBLIC_URL', description: 'Public base URL of the server, used in links inside emails.', example: 'https://learn.example.com', default: 'http://localhost:$PORT', parse: url('http', 'https') }),
  CORS_ORIGINS: spec({
    name: 'CORS_ORIGINS',
    description: 'Comma-separated list of browser origins allowed to call the API with credentials. Empty: no cross-origin access.',
    example: 'https://app.example.com,http://localhost:5173',
    default: '',
    parse: origins,
  }),
  TRUST_PROXY: spec({
    name: 'TRUST_PROXY',
    description: 'Trust `X-Forwarded-*` from these proxies (comma-separated IPs/CIDRs, or `true` for any). Needed for correct client IPs behind a load balancer.',
    example: '10.0.0.0/8',
    default: '',
    parse: text,
  }),
  HTTP_HEADERS_TIMEOUT_MS: spec({ name: 'HTTP_HEADERS_TIMEOUT_MS', description: 'A client must send its request headers within this time, or its connection is closed (slow-header attacks such as slowloris).', example: '5000', default: '10000', parse: integer(1000, 600_000) }),
  HTTP_REQUEST_TIMEOUT_MS: spec({ name: 'HTTP_REQUEST_TIMEOUT_MS', description: 'A client must send its whole request, body included, within this time (slow-body attacks). Does not limit how long a response may stream (SSE, downloads).', example: '120000', default: '60000', parse: integer(1000, 3_600_000) }),
  BODY_LIMIT_BYTES: spec({ name: 'BODY_LIMIT_BYTES', description: 'Largest accepted request body (JSON). Larger bodies get 413.', example: '1048576', default: '1048576', parse: integer(1024, 1024 * 1024 * 1024) }),
  RATE_LIMIT_MAX: spec({ name: 'RATE_LIMIT_MAX', description: 'Requests per client per window, across all routes (per IP; per user once authenticated routes key by user).', example: '600', default: '300', parse: integer(1, 1_000_000) }),
  RATE_LIMIT_WINDOW_MS: spec({ name: 'RATE_LIMIT_WINDOW_MS', description: 'Length of the rate-limit window.', example: '60000', default: '60000', parse: integer(1000, 86_400_000) }),
  SMTP_URL: spec({
    name: 'SMTP_URL',
    description: 'SMTP server for outgoing mail. Absent: a development outbox stores each message in the database and logs its subject and recipient.',
    example: 'smtps://user:pass@smtp.example.com:465',
    parse: url('smtp', 'smtps'),
    secret: true,
  }),
  MAIL_FROM: spec({ name: 'MAIL_FROM', description: 'Sender address of outgoing mail.', example: 'Lyceum <no-reply@example.com>', default: 'Lyceum <no-reply@localhost>', parse: text }),
  LOG_LEVEL: spec({ name: 'LOG_LEVEL', description: 'pino log level.', example: 'debug', default: 'info', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') }),
  METRICS_ALLOW: spec({
    name: 'METRICS_ALLOW',
    description: 'Comma-separated IPs/CIDRs allowed to read `/metrics` without a token (admins may always read it).',
    example: '10.0.0.0/8,127.0.0.1',
    default: '127.0.0.1,::1',
    parse: list,
  }),
  EVENT_RETENTION_DAYS: spec({ name: 'EVENT_RETENTION_DAYS', description: 'How long the event log keeps events. Clients offline for longer must resync.', example: '30', default: '30', parse: integer(1, 3650) }),
  EVENT_POLL_MS: spec({ name: 'EVENT_POLL_MS', description: 'Safety-net poll interval of the event tailer (new events normally arrive by notification).', example: '1000', default: '1000', parse: integer(50, 60000) }),
  JOB_CONCURRENCY: spec({ name: 'JOB_CONCURRENCY', description: 'Jobs one node runs at the same time. `0` runs no workers on this node.', example: '8', default: '4', parse: integer(0, 256) }),
  JOB_LEASE_MS: spec({ name: 'JOB_LEASE_MS', description: 'How long a claimed job is reserved. A worker renews it while running; a job whose worker died is taken again after it expires.', example: '30000', default: '30000', parse: integer(1000, 3_600_000) }),
  JOB_POLL_MS: spec({ name: 'JOB_POLL_MS', description: 'How often idle workers look for due jobs.', example: '1000', default: '1000', parse: integer(10, 60000) }),
  SHUTDOWN_TIMEOUT_MS: spec({ name: 'SHUTDOWN_TIMEOUT_MS', description: 'On SIGTERM, how long in-flight requests and running jobs get to finish before the process exits.', example: '15000', default: '10000', parse: integer(0, 600000) }),
  CURSOR_SECRET: spec({
    name: 'CURSOR_SECRET',
    description: 'Key that signs pagination cursors. Generated on first start into `$DATA_DIR/secrets/cursor-secret` unless set; in cluster mode give every node the same value.',
    example: '(64 random hex characters)',
    parse: text,
    secret: true,
  }),
  AUTH_ISSUER: spec({ name: 'AUTH_ISSUER', description: 'The `iss` of access tokens. Defaults to PUBLIC_URL.', example: 'https://learn.example.com', default: '$PUBLIC_URL', parse: text }),
  AUTH_AUDIENCE: spec({ name: 'AUTH_AUDIENCE', description: 'The `aud` of access tokens; services that verify them with the JWKS check it.', example: 'lyceum', default: 'lyceum', parse: text }),
  AUTH_ACCESS_TOKEN_TTL_SECONDS: spec({ name: 'AUTH_ACCESS_TOKEN_TTL_SECONDS', description: 'Lifetime of an access token (JWT).', example: '600', default: '900', parse: integer(30, 86_400) }),
  AUTH_SESSION_IDLE_TIMEOUT_SECONDS: spec({ name: 'AUTH_SESSION_IDLE_TIMEOUT_SECONDS', description: 'A session whose refresh token is not used for this long ends.', example: '604800', default: '1209600', parse: integer(60, 31_536_000) }),
  AUTH_SESSION_MAX_AGE_SECONDS: spec({ name: 'AUTH_SESSION_MAX_AGE_SECONDS', description: 'Absolute lifetime of a session, however active; then the user signs in again.', example: '2592000', default: '7776000', parse: integer(300, 31_536_000) }),
  AUTH_REFRESH_GRACE_SECONDS: spec({ name: 'AUTH_REFRESH_GRACE_SECONDS', description: 'How long after a refresh the previous refresh token may be retried and returns the same successor (concurrent tabs). Reuse later revokes the session.', example: '10', default: '30', parse: integer(0, 300) }),
  AUTH_SIGNING_KEY_ROTATION_DAYS: spec({ name: 'AUTH_SIGNING_KEY_ROTATION_DAYS', description: 'Age at which the access-token signing key is replaced by a new one (checked hourly). Old public keys stay in the JWKS until their tokens expire. `0`: never.', example: '30', default: '90', parse: integer(0, 3650) }),
  AUTH_PASSWORD_MIN_LENGTH: spec({ name: 'AUTH_PASSWORD_MIN_LENGTH', description: 'Shortest accepted password, in characters (code points). Passwords up to 1024 characters are accepted.', example: '12', default: '10', parse: integer(8, 128) }),
  AUTH_ARGON2_MEMORY_KIB: spec({ name: 'AUTH_ARGON2_MEMORY_KIB', description: 'argon2id memory cost. Stored hashes with other parameters are re-hashed at the next login.', example: '47104', default: '19456', parse: integer(1024, 4_194_304) }),
  AUTH_ARGON2_ITERATIONS: spec({ name: 'AUTH_ARGON2_ITERATIONS', description: 'argon2id time cost (passes).', example: '1', default: '2', parse: integer(1, 20) }),
  AUTH_VERIFIED_EMAIL_REQUIRED_FOR: spec({ name: 'AUTH_VERIFIED_EMAIL_REQUIRED_FOR', description: 'Actions that need a verified email address, comma-separated: `login`, `api-keys`. Empty: none.', example: 'login,api-keys', parse: list }),
  AUTH_EMAIL_TOKEN_TTL_SECONDS: spec({ name: 'AUTH_EMAIL_TOKEN_TTL_SECONDS', description: 'Lifetime of an email verification (or email change) link.', example: '3600', default: '86400', parse: integer(300, 2_592_000) }),
  AUTH_EMAIL_RESEND_COOLDOWN_SECONDS: spec({ name: 'AUTH_EMAIL_RESEND_COOLDOWN_SECONDS', description: 'Minimum time between two verification emails to one account.', example: '120', default: '60', parse: integer(0, 86_400) }),
  AUTH_LOGIN_LOCK_THRESHOLD: spec({ name: 'AUTH_LOGIN_LOCK_THRESHOLD', description: 'Failed logins for one (account, IP) pair before that pair is locked; each further failure doubles the lock. Other IPs are not affected.', example: '10', default: '5', parse: integer(1, 1000) }),
  AUTH_LOGIN_LOCK_SECONDS: spec({ name: 'AUTH_LOGIN_LOCK_SECONDS', description: 'First lock of an (account, IP) pair; it doubles with every further failure, up to one hour.', example: '60', default: '30', parse: integer(1, 3600) }),
  AUTH_IP_LOCK_THRESHOLD: spec({ name: 'AUTH_IP_LOCK_THRESHOLD', description: 'Failed logins from one IP, across all accounts, before that IP is locked out of login (growing delays as above).', example: '200', default: '50', parse: integer(1, 100_000) }),
  AUTH_PASSKEY_RP_ID: spec({ name: 'AUTH_PASSKEY_RP_ID', description: 'WebAuthn relying-party id of passkeys (a registrable domain). Defaults to the host name of PUBLIC_URL; changing it later invalidates existing passkeys.', example: 'example.com', parse: text }),
  AUTH_PASSKEY_ORIGINS: spec({ name: 'AUTH_PASSKEY_ORIGINS', description: 'Origins allowed in passkey ceremonies, comma-separated (web origins, `android:apk-key-hash:…` for Android apps). Defaults to the origin of PUBLIC_URL.', example: 'https://learn.example.com,android:apk-key-hash:abc', parse: list }),
  AUTH_STEP_UP_SECONDS: spec({ name: 'AUTH_STEP_UP_SECONDS', description: 'How recent a second factor must be for sensitive actions (API keys, password and email change, passkeys, admin changes to users) by an account that has one.', example: '300', default: '600', parse: integer(30, 86_400) }),
  AUTH_OIDC_PROVIDERS: spec({
    name: 'AUTH_OIDC_PROVIDERS',
    description:
      'OpenID Connect providers for single sign-on, as a JSON array of `{ "name", "issuer", "clientId", "clientSecret", "displayName"?, "tokenEndpointAuthMethod"? }`. Register `<PUBLIC_URL>/api/v1/auth/oidc/<name>/callback` as the redirect URI at the provider. Plain-http issuers are accepted only on loopback addresses. Off when unset.',
    example: '[{"name":"google","issuer":"https://accounts.google.com","clientId":"…","clientSecret":"…"}]',
    parse: oidcProviders,
    secret: true,
  }),
  AUTH_OIDC_REDIRECT_URIS: spec({
    name: 'AUTH_OIDC_REDIRECT_URIS',
    description: 'Where single sign-on may send the user back with a one-time login code, comma-separated, matched exactly: web app pages and mobile app links (`com.example.app:/sso`).',
    example: 'https://learn.example.com/sso,com.example.learn:/sso',
    parse: list,
  }),
  AUTH_RATE_LIMIT_MAX: spec({ name: 'AUTH_RATE_LIMIT_MAX', description: 'Requests per IP per RATE_LIMIT_WINDOW_MS on each sensitive auth route (register, login, refresh, password and email flows); stricter than RATE_LIMIT_MAX.', example: '10', default: '20', parse: integer(1, 1_000_000) }),
  COMMUNITY_POSTS_PER_HOUR: spec({ name: 'COMMUNITY_POSTS_PER_HOUR', description: 'Posts one user may write per hour (429 with Retry-After beyond).', example: '10', default: '30', parse: integer(1, 1_000_000) }),
  COMMUNITY_COMMENTS_PER_HOUR: spec({ name: 'COMMUNITY_COMMENTS_PER_HOUR', description: 'Comments and replies one user may write per hour (429 with Retry-After beyond).', example: '60', default: '240', parse: integer(1, 1_000_000) }),
  LEARNING_INVITATION_TTL_DAYS: spec({ name: 'LEARNING_INVITATION_TTL_DAYS', description: 'Days a course invitation stays open before it expires.', example: '7', default: '14', parse: integer(1, 365) }),
  PUSH_ENDPOINT_HOSTS: spec({
    name: 'PUSH_ENDPOINT_HOSTS',
    description: 'Hosts that web push subscriptions may point at (the server POSTs to them): the browsers\' push services. `*.` matches any subdomain. Keeps users from making the server call internal addresses.',
    example: 'fcm.googleapis.com,*.push.services.mozilla.com',
    default: 'fcm.googleapis.com,*.push.services.mozilla.com,web.push.apple.com,*.notify.windows.com',
    parse: list,
  }),
  CHAT_NOTIFY_DELAY_SECONDS: spec({ name: 'CHAT_NOTIFY_DELAY_SECONDS', description: 'How long chat waits before it asks for notifications of new messages: the messages of a conversation within this window make one notification, and only for members who have not read them in the app meanwhile (mentions notify at once). 0 asks after every message.', example: '60', default: '30', parse: integer(0, 86_400) }),
  NOTIFICATIONS_EMAIL_DELAY_SECONDS: spec({ name: 'NOTIFICATIONS_EMAIL_DELAY_SECONDS', description: 'How long a notification email waits before it is sent, so that a notification read in the app (or the chat) meanwhile is not also emailed. Security notices do not wait.', example: '300', default: '120', parse: integer(0, 86_400) }),
  NOTIFICATIONS_PUSH_DELAY_SECONDS: spec({ name: 'NOTIFICATIONS_PUSH_DELAY_SECONDS', description: 'The same for web push (shorter: push is meant to be prompt).', example: '10', default: '30', parse: integer(0, 86_400) }),
  NOTIFICATIONS_SMS_DELAY_SECONDS: spec({ name: 'NOTIFICATIONS_SMS_DELAY_SECONDS', description: 'The same for SMS.', example: '120', default: '60', parse: integer(0, 86_400) }),
  SMS_PROVIDER: spec({ name: 'SMS_PROVIDER', description: 'SMS channel of notifications: `twilio` (or any provider that speaks the Twilio Messages API, see TWILIO_BASE_URL). Off when unset.', example: 'twilio', parse: oneOf('twilio') }),
  TWILIO_ACCOUNT_SID: spec({ name: 'TWILIO_ACCOUNT_SID', description: 'Account SID for SMS (HTTP Basic user). Required when SMS_PROVIDER=twilio.', example: 'AC0123456789abcdef0123456789abcdef', parse: smsAccountSid }),
  TWILIO_AUTH_TOKEN: spec({ name: 'TWILIO_AUTH_TOKEN', description: 'Auth token for SMS (HTTP Basic password); never logged. Required when SMS_PROVIDER=twilio.', example: '(32 hex characters)', parse: text, secret: true }),
  TWILIO_FROM: spec({ name: 'TWILIO_FROM', description: 'Sender of SMS: an E.164 number or an alphanumeric sender id. Give this or TWILIO_MESSAGING_SERVICE_SID.', example: '+15005550006', parse: smsSender }),
  TWILIO_MESSAGING_SERVICE_SID: spec({ name: 'TWILIO_MESSAGING_SERVICE_SID', description: 'Messaging Service that picks the sender (sent as `MessagingServiceSid`, instead of TWILIO_FROM).', example: 'MG0123456789abcdef0123456789abcdef', parse: smsAccountSid }),
  TWILIO_BASE_URL: spec({ name: 'TWILIO_BASE_URL', description: 'Base URL of the Twilio-compatible Messages API (`POST {base}/2010-04-01/Accounts/{sid}/Messages.json`). Plain http only in development and tests.', example: 'https://api.twilio.com', default: 'https://api.twilio.com', parse: url('https', 'http') }),
} as const;

export type OptionName = keyof typeof options;
