import { createInterface } from 'node:readline';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { Config } from '../../core/config/config.js';
import type { Database } from '../../core/db/database.js';
import type { EventLog } from '../../core/events/types.js';
import type { AccessGuard } from '../../core/http/access.js';
import type { CursorCodec } from '../../core/http/pagination.js';
import type { Mailer } from '../../core/mail/mailer.js';
import type { SecretStore } from '../../core/secrets.js';
import { defineModule, type LyceumModule } from '../../core/module.js';
import { randomSecret } from '../../core/secrets.js';
import { createAccessTokens } from './access-tokens.js';
import { adminRoutes } from './admin.routes.js';
import { createAdminService, type AdminService } from './admin.service.js';
import { apiKeyRoutes } from './api-keys.routes.js';
import { createApiKeys, type ApiKeys } from './api-keys.service.js';
import { createAudit } from './audit.js';
import { createAuthenticator } from './authenticator.js';
import { IdentityEvents, type ApiKeyRevokedPayload, type SessionRevokedPayload } from './identity.events.js';
import { identityRepo } from './identity.repo.js';
import { identityRoutes, jwksRoutes } from './identity.routes.js';
import { createIdentityService, type IdentityService } from './identity.service.js';
import { createLoginThrottle } from './login-throttle.js';
import { mfaRoutes } from './mfa.routes.js';
import { oidcRoutes } from './oidc.routes.js';
import { createOidc } from './oidc.service.js';
import { createMfa, type Mfa } from './mfa.service.js';
import { createPasswordHasher } from './passwords.js';
import { passkeyRoutes } from './passkeys.routes.js';
import { createPasskeys, type Passkeys } from './passkeys.service.js';
import { PERMISSIONS } from './permissions.js';
import { randomToken } from './secrets-util.js';
import { serviceAccountRoutes } from './service-accounts.routes.js';
import { createSessions, type Sessions } from './sessions.js';
import { createSigningKeyRing, type SigningKeyRing } from './signing-keys.js';
import { createUsersDirectory, type UsersDirectory } from './users-directory.js';

export { PERMISSIONS, ROLES, permissionsOf, type Permission, type Role } from './permissions.js';
export { IdentityEvents } from './identity.events.js';
export type { PublicUser, UsersDirectory } from './users-directory.js';

/** What other modules may use of identity (through this file only). */
export interface IdentityModule extends LyceumModule {
  service: IdentityService;
  admin: AdminService;
  apiKeys: ApiKeys;
  sessions: Sessions;
  keys: SigningKeyRing;
  mfa: Mfa;
  passkeys: Passkeys;
  /** Display names and roles of accounts, for modules that show people (rosters, members, authors). */
  users: UsersDirectory;
  /** The one-time token that creates the first administrator through POST /admin/setup. */
  setupToken(): Promise<string>;
}

/** The core services identity uses (a subset of app.ts's CoreServices, named here so imports flow one way). */
export interface IdentityCore {
  config: Config;
  database: Database;
  clock: Clock;
  logger: FastifyBaseLogger;
  events: EventLog;
  mailer: Mailer;
  cursors: CursorCodec;
  secrets: SecretStore;
  access: AccessGuard;
}

/** The console command for the first administrator, as the start-up messages print it (from a clone). */
export const CREATE_ADMIN_COMMAND = 'npm run lyceum -- create-admin --email you@example.com --name "Your Name"';

/** Accounts, sessions, tokens, roles, API keys and the audit log; plugs the authenticator into core. */
export async function createIdentityModule(core: IdentityCore): Promise<IdentityModule> {
  const { config, database, clock, events, mailer, cursors, secrets, access, logger } = core;
  const { db } = database;
  const auth = config.auth;

  const refreshSecret = await secrets.getOrCreate('identity-refresh-secret', randomSecret);
  const setupToken = () => secrets.getOrCreate('identity-setup-token', () => randomToken('lys_'));
  const audit = createAudit(clock);
  const passwords = createPasswordHasher(auth.argon2);
  const keys = createSigningKeyRing({ repo: identityRepo(db), secrets, clock, accessTokenTtl: auth.accessTokenTtl });
  const accessTokens = createAccessTokens({ keys, clock, issuer: auth.issuer, audience: auth.audience, ttlSeconds: auth.accessTokenTtl });
  const sessions = createSessions({ db, clock, events, audit, auth, accessTokens, refreshSecret });
  const throttle = createLoginThrottle({ db, clock, auth });
  const apiKeys = createApiKeys({ db, clock, events, cursors, audit, auth });
  const mfaKey = await secrets.getOrCreate('identity-mfa-key', randomSecret);
  let mfa: Mfa | undefined;
  const service = createIdentityService({
    db, clock, events, mailer, cursors, auth, publicUrl: config.publicUrl, passwords, sessions, throttle, audit,
    secondFactor: { isEnabled: (userId) => mfa!.isEnabled(userId), challenge: (user, context) => mfa!.challenge(user, context) },
  });
  mfa = createMfa({ db, clock, audit, passwords, issuer: new URL(config.publicUrl).host, secretKey: mfaKey, stepUpSeconds: auth.stepUpSeconds, service: () => service });
  const publicUrl = new URL(config.publicUrl);
  const passkeys = createPasskeys({
    db, clock, audit, rpId: auth.passkeyRpId ?? publicUrl.hostname, rpName: 'Lyceum', origins: auth.passkeyOrigins.length ? auth.passkeyOrigins : [publicUrl.origin], service: () => service,
  });
  const admin = createAdminService({ db, clock, events, cursors, auth, passwords, sessions, apiKeys, audit, exportExtras: async (userId) => ({ ...(await mfa!.exportData(userId)), passkeys: await passkeys.list(userId) }) });

  const oidc = createOidc({
    db, clock, events, audit, sessions, service: () => service,
    providers: auth.oidcProviders,
    callbackUrl: (provider) => `${config.publicUrl}/api/v1/auth/oidc/${provider}/callback`,
    allowedRedirects: auth.oidcRedirectUris,
    flowSecret: await secrets.getOrCreate('identity-oidc-secret', randomSecret),
    secondFactor: { isEnabled: (userId) => mfa!.isEnabled(userId), challenge: (user, context) => mfa!.challenge(user, context) },
  });

  access.setAuthenticator(createAuthenticator({ accessTokens, sessions, apiKeys }));
  access.setFreshSecondFactorCheck((principal) => mfa!.assertFresh(principal));

  const rateLimit = { max: auth.rateLimitMax, timeWindow: config.rateLimit.windowMs };
  const identityApi = identityRoutes({ service, keys, now: () => clock.now(), accessTokenTtl: auth.accessTokenTtl, rateLimit });
  const adminApi = adminRoutes({ admin, setupToken, rateLimit });
  const apiKeyApi = apiKeyRoutes(apiKeys);
  const serviceAccountApi = serviceAccountRoutes({ admin, apiKeys });
  const passkeyApi = passkeyRoutes(passkeys, { now: () => clock.now(), accessTokenTtl: auth.accessTokenTtl, rateLimit });
  const mfaApi = mfaRoutes(mfa, { now: () => clock.now(), accessTokenTtl: auth.accessTokenTtl, rateLimit });
  const oidcApi = oidcRoutes(oidc, { now: () => clock.now(), accessTokenTtl: auth.accessTokenTtl, rateLimit });

  return defineModule({
    name: 'identity',
    migrations: new URL('./migrations/', import.meta.url),
    permissions: PERMISSIONS,
    service,
    admin,
    apiKeys,
    sessions,
    keys,
    mfa,
    passkeys,
    users: createUsersDirectory(db),
    setupToken,
    routes: async (app) => {
      await identityApi(app);
      await adminApi(app);
      await apiKeyApi(app);
      await serviceAccountApi(app);
      await mfaApi(app);
      await passkeyApi(app);
      await oidcApi(app);
    },
    rootRoutes: jwksRoutes(keys),
    subscribers: [
      {
        // Every node forgets ended sessions within the event log's dispatch delay, and disconnects their sockets.
        name: 'identity.sessions-ended',
        types: [IdentityEvents.sessionRevoked],
        handle: (event) => {
          const { sessionIds, reason, userId } = event.payload as SessionRevokedPayload;
          sessions.forget(sessionIds);
          apiKeys.forgetUser(userId);
          for (const id of sessionIds) access.sessionEnded(id, reason);
        },
      },
      {
        name: 'identity.api-keys-changed',
        types: [IdentityEvents.apiKeyRevoked, IdentityEvents.userUpdated, IdentityEvents.userDeleted],
        handle: (event) => {
          if (event.type === IdentityEvents.apiKeyRevoked) apiKeys.forgetKeys((event.payload as ApiKeyRevokedPayload).apiKeyIds);
          else apiKeys.forgetUser((event.payload as { userId: string }).userId);
        },
      },
      { name: 'identity.signing-keys', types: [IdentityEvents.signingKeyRotated], handle: () => keys.reload() },
    ],
    jobs: {
      'identity.signing-keys.rotate': {
        async handle() {
          await keys.ensure();
          if (!keys.isDue(auth.signingKeyRotationDays)) return;
          const kid = await keys.rotate();
          await db.transaction().execute(async (tx) => {
            await events.append(tx, { type: IdentityEvents.signingKeyRotated, scopes: ['system'], payload: { kid } });
            await audit(tx, { type: 'signingkey.rotated', details: { kid } });
          });
        },
      },
      'identity.sessions.prune': {
        async handle() {
          // Ended sessions (and their used refresh tokens) are kept 30 days for the audit trail, then dropped.
          await identityRepo(db).deleteSessionsEndedBefore(new Date(clock.now().getTime() - 30 * 86_400_000).toISOString());
          await oidc.prune();
        },
      },
    },
    schedules: [
      { name: 'identity.signing-keys.rotate', cron: '41 * * * *', job: 'identity.signing-keys.rotate' },
      { name: 'identity.sessions.prune', cron: '29 4 * * *', job: 'identity.sessions.prune' },
    ],
    cli: {
      'create-admin': async (args) => {
        const options = parseArgs(args);
        if (!options.email || !options.name) {
          process.stderr.write('Usage: lyceum create-admin --email <email> --name <display name> [--password-stdin]\n');
          throw new Error('create-admin needs --email and --name');
        }
        const generated = !options['password-stdin'];
        const password = generated ? randomToken().slice(0, 24) : await readLine();
        const user = await admin.createAdmin({ email: options.email, password, displayName: options.name });
        process.stdout.write(`Administrator ${user.email} created (${user.id}).\n`);
        if (generated) process.stdout.write(`Password: ${password}\nChange it after the first sign-in (POST /api/v1/auth/password/change).\n`);
      },
    },
    async start() {
      await keys.ensure();
      if (config.env !== 'test' && !(await admin.hasAdmin())) {
        // For the operator's eyes, on the console rather than in the structured log.
        process.stdout.write(
          `\nNo administrator exists yet. Create one with:\n  ${CREATE_ADMIN_COMMAND}\nor through the API, once, with this setup token:\n  POST ${config.publicUrl}/api/v1/admin/setup  {"setupToken":"${await setupToken()}", "email":…, "password":…, "displayName":…}\n\n`,
        );
        logger.warn('no administrator exists yet; the one-time setup token is printed on the console');
      }
    },
  });
}

function parseArgs(args: string[]): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) continue;
    const [name, inline] = arg.slice(2).split('=', 2);
    if (inline !== undefined) result[name!] = inline;
    else if (args[i + 1] && !args[i + 1]!.startsWith('--')) result[name!] = args[++i];
    else result[name!] = 'true';
  }
  return result;
}

async function readLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new Error('No password on standard input');
}
