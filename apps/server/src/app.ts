import { mkdirSync, readFileSync } from 'node:fs';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import { systemClock, type Clock } from './core/clock.js';
import type { Config } from './core/config/config.js';
import { awaitPostgres } from './core/db/await-postgres.js';
import { createDatabase, type Database } from './core/db/database.js';
import { coreMigrations, createMigrator, type LyceumMigrator, type MigrationSource } from './core/db/migrator.js';
import { createEventLog } from './core/events/event-log.js';
import type { EventLog } from './core/events/types.js';
import { registerAccessGuard, type AccessGuard } from './core/http/access.js';
import { registerErrorHandling, sendProblem, toAppError } from './core/http/error-handler.js';
import { registerIdempotency } from './core/http/idempotency.js';
import { registerOpenApi } from './core/http/openapi.js';
import { createCursorCodec, type CursorCodec } from './core/http/pagination.js';
import { fixedHeaders, registerSecurity } from './core/http/security.js';
import { schemaCompilers } from './core/http/validation.js';
import { newRequestId } from './core/ids.js';
import { registerJobRoutes } from './core/jobs/jobs.routes.js';
import { createJobQueue } from './core/jobs/job-queue.js';
import type { JobQueue } from './core/jobs/types.js';
import { createMailer, type Mailer } from './core/mail/mailer.js';
import type { LyceumModule } from './core/module.js';
import { collectStartupGarbage, holdTickShape } from './core/object-shapes.js';
import { registerHealthRoutes } from './core/observability/health.routes.js';
import { loggerOptions, OneLinePerRequest } from './core/observability/logger.js';
import { createMetrics, type Metrics } from './core/observability/metrics.js';
import { createFanout } from './core/realtime/fanout.js';
import { createRealtimeGateway, eventNamer, type RealtimeGateway } from './core/realtime/gateway.js';
import type { RoomAuthorizer } from './core/realtime/rooms.js';
import { createEventStream } from './core/realtime/stream.routes.js';
import { closeRedis, connectRedis } from './core/redis.js';
import { createIdentityModule, type IdentityModule } from './modules/identity/index.js';
import { createLearningModule, type LearningModule } from './modules/learning/index.js';
import { createChatModule, type ChatModule } from './modules/chat/index.js';
import { createCommunityModule, type CommunityModule } from './modules/community/index.js';
import { createDirectoryModule, type DirectoryModule } from './modules/directory/index.js';
import { createNotificationsModule, type NotificationsModule } from './modules/notifications/index.js';
import { databaseSecretStore, fileSecretStore, randomSecret, type SecretStore } from './core/secrets.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** What core hands to every module factory. */
export interface CoreServices {
  config: Config;
  database: Database;
  clock: Clock;
  logger: FastifyBaseLogger;
  events: EventLog;
  jobs: JobQueue;
  mailer: Mailer;
  cursors: CursorCodec;
  secrets: SecretStore;
  access: AccessGuard;
  metrics: Metrics;
  redis?: Redis;
}

/** What exists only once the app is built: the realtime gateway on the HTTP server. */
export interface Runtime {
  realtime: RealtimeGateway;
}

/** A module built outside the product's own list (tests, benchmarks); it sees the modules built before it. */
export type ModuleFactory = (core: CoreServices, modules: readonly LyceumModule[]) => LyceumModule | Promise<LyceumModule>;

export interface BuildOptions {
  config: Config;
  clock?: Clock;
  /** Extra modules (tests, benchmarks) on top of the product's own. */
  extraModules?: ModuleFactory[];
  /** pino options, or false for silence (tests). */
  logger?: boolean | object;
}

/** The product's modules by name, with their public service types (for flows that span modules). */
export interface ProductModules {
  identity: IdentityModule;
  learning: LearningModule;
  chat: ChatModule;
  community: CommunityModule;
  directory: DirectoryModule;
  notifications: NotificationsModule;
}

export interface LyceumApp {
  app: FastifyInstance;
  core: CoreServices;
  modules: LyceumModule[];
  /** The same product modules, typed and by name (flows such as `lyceum seed --demo` use them). */
  product: ProductModules;
  migrator: LyceumMigrator;
  runtime: Runtime;
  /** Every route the server answers (HEAD routes excluded), for the OpenAPI inventory test. */
  routes: Array<{ method: string; url: string; hidden: boolean }>;
  /** Starts the background parts (event dispatch, job workers, modules) and listens. */
  listen(): Promise<string>;
  /** Starts background parts without listening (tests that use inject). */
  startBackground(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The product's modules, built in dependency order: a module that uses another receives it here,
 * by a plain argument (`createLearningModule(core, { identity })`).
 */
async function createProductModules(core: CoreServices): Promise<ProductModules> {
  const identity = await createIdentityModule(core);
  const learning = await createLearningModule(core, { identity });
  const chat = await createChatModule(core, { identity, learning });
  const community = await createCommunityModule(core, { identity, learning });
  const directory = await createDirectoryModule(core, { identity });
  const notifications = await createNotificationsModule(core, { identity, learning });
  return { identity, learning, chat, community, directory, notifications };
}

/**
 * Builds the whole server by plain factory calls: config → core services → modules → routes.
 * Nothing is looked up by name; go-to-definition leads to every piece.
 */
export async function buildApp({ config, clock = systemClock, extraModules = [], logger }: BuildOptions): Promise<LyceumApp> {
  holdTickShape();
  if (config.database.kind === 'sqlite') mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const requestLines = new OneLinePerRequest();
  const app = Fastify({
    logger: logger === undefined ? loggerOptions(config.logLevel) : logger,
    logController: requestLines,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : newRequestId();
    },
    // Errors the router raises before any route runs (bad URL encoding, an overlong path segment):
    // no hook runs for them, so they get the headers every response carries here.
    frameworkErrors: (error, request, reply) => sendProblem(request, reply.headers(fixedHeaders).header('x-request-id', request.id), toAppError(error)),
    forceCloseConnections: 'idle',
    requestTimeout: config.http.requestTimeoutMs,
    // Node checks these timeouts every `connectionsCheckingInterval` (30 s by default): too coarse.
    http: { headersTimeout: config.http.headersTimeoutMs, connectionsCheckingInterval: 1000 },
    return503OnClosing: true,
    schemaController: schemaCompilers,
  }).withTypeProvider<TypeBoxTypeProvider>();
  const log = app.log;
  requestLines.writeTo(log);
  const routes: LyceumApp['routes'] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: route.url, hidden: Boolean((route.schema as { hide?: boolean } | undefined)?.hide) });
    }
  });

  // First, before anything that would need undoing: a Redis that does not answer stops the start.
  const redis = config.redis ? await connectRedis(config.redis, log) : undefined;
  const database = createDatabase(config.database);
  // Migrations may run for minutes on big tables: they get a pool without the fail-fast timeout.
  const migrationDatabase = config.database.kind === 'postgres' ? createDatabase({ ...config.database, timeoutMs: 0 }) : database;

  try {
    if (config.database.kind === 'postgres') await awaitPostgres(database, config.database.url);
    const secrets = config.database.kind === 'postgres' ? databaseSecretStore(database) : fileSecretStore(config.dataDir);
    const cursors = createCursorCodec(config.secrets.cursorSecret ?? (await secrets.getOrCreate('cursor-secret', randomSecret)));
    const metricsRef: { current?: Metrics } = {};
    const events = createEventLog({
      database,
      clock,
      logger: log,
      pollMs: config.events.pollMs,
      retentionDays: config.events.retentionDays,
      onAppend: () => metricsRef.current?.eventsAppended.inc(),
    });
    const jobs = createJobQueue({ database, clock, logger: log, concurrency: config.jobs.concurrency, leaseMs: config.jobs.leaseMs, pollMs: config.jobs.pollMs });
    const mailer = createMailer({ database, jobs, logger: log, smtpUrl: config.smtpUrl, from: config.mailFrom });

    registerErrorHandling(app);
    // Before any route: every route gets its latency hook.
    const metrics = createMetrics(app, { poolStats: database.poolStats, queueDepth: () => jobs.depth() });
    metricsRef.current = metrics;
    let draining = false;
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header('x-request-id', request.id);
      // While shutting down, keep-alive connections close after their last response, so that the
      // server can finish without cutting anyone off mid-request.
      if (draining) reply.header('connection', 'close');
      done(null, payload);
    });
    const access = registerAccessGuard(app);
    await registerSecurity(app, {
      corsOrigins: config.corsOrigins,
      rateLimit: config.rateLimit,
      redis: redis && config.redis ? { client: redis, prefix: config.redis.prefix } : undefined,
    });
    await registerOpenApi(app, { publicUrl: config.publicUrl, version });

    const core: CoreServices = { config, database, clock, logger: log, events, jobs, mailer, cursors, secrets, access, metrics, redis };
    // Module factories only wire themselves up; they touch the database after migrations, in start().
    const product = await createProductModules(core);
    const modules: LyceumModule[] = [product.identity, product.learning, product.chat, product.community, product.directory, product.notifications];
    for (const factory of extraModules) modules.push(await factory(core, modules));
    const migrator = createMigrator(migrationDatabase, [
      coreMigrations,
      ...modules.flatMap((m): MigrationSource[] => (m.migrations ? [{ owner: m.name, dir: m.migrations }] : [])),
    ]);
    if (config.migrateOnStart) await migrator.up();

    const idempotency = registerIdempotency(app, { db: database.db, clock });
    jobs.define('core.idempotency.prune', { handle: async () => void (await idempotency.prune()) });
    jobs.schedule({ name: 'core.idempotency.prune', cron: '17 * * * *', job: 'core.idempotency.prune' });
    jobs.define('core.events.prune', { handle: async () => void (await events.prune()) });
    jobs.schedule({ name: 'core.events.prune', cron: '23 3 * * *', job: 'core.events.prune' });

    for (const module of modules) {
      for (const [name, definition] of Object.entries(module.jobs ?? {})) jobs.define(name, definition);
      for (const schedule of module.schedules ?? []) jobs.schedule(schedule);
      for (const subscriber of module.subscribers ?? []) events.subscribe(subscriber);
    }

    registerHealthRoutes(app, {
      metrics,
      metricsAllow: config.metricsAllow,
      checks: [
        { name: 'database', check: async () => void (await sql`select 1`.execute(database.db)) },
        {
          name: 'migrations',
          check: async () => {
            const pending = await migrator.pending();
            if (pending.length) throw new Error(`${pending.length} pending: ${pending.join(', ')}`);
          },
        },
        ...(redis ? [{ name: 'redis', check: async () => void (await redis.ping()) }] : []),
      ],
    });

    const rooms = new Map<string, RoomAuthorizer>(modules.flatMap((m) => Object.entries(m.rooms ?? {})));
    const fanout = createFanout(events);
    events.subscribe({ name: 'realtime.fanout', handle: (event) => fanout.publish(event) });
    const eventName = eventNamer(Object.assign({}, ...modules.map((m) => m.realtimeNames ?? {})));
    const eventStream = createEventStream({ fanout, rooms, eventName });

    await app.register(
      async (api) => {
        registerJobRoutes(api, { jobs, cursors });
        await eventStream.register(api);
        for (const module of modules) await module.routes?.(api);
      },
      { prefix: '/api/v1' },
    );
    for (const module of modules) await module.rootRoutes?.(app);

    let backgroundStarted = false;
    const startBackground = async () => {
      if (backgroundStarted) return;
      backgroundStarted = true;
      await events.start();
      jobs.start();
      for (const module of modules) await module.start?.();
    };

    const realtime = createRealtimeGateway({ server: app.server, fanout, access, rooms, eventName, clock, corsOrigins: config.corsOrigins, redis, commands: Object.assign({}, ...modules.map((m) => m.socketCommands ?? {})), autoRooms: modules.flatMap((m) => (m.socketRooms ? [m.socketRooms] : [])) });
    // Long-lived connections would keep the server from closing: end them first; clients reconnect elsewhere.
    app.addHook('preClose', async () => {
      await realtime.close();
      eventStream.closeAll();
    });

    app.addHook('onClose', async () => {
      // Reverse order of start: stop taking work, let running work finish, then close connections.
      for (const module of [...modules].reverse()) await module.stop?.();
      await jobs.stop(config.shutdownTimeoutMs);
      await events.stop();
      await database.close();
      if (migrationDatabase !== database) await migrationDatabase.close();
      if (redis) await closeRedis(redis);
    });

    await app.ready();
    return {
      app,
      core,
      modules,
      product,
      migrator,
      runtime: { realtime },
      routes,
      startBackground,
      async listen() {
        await startBackground();
        collectStartupGarbage();
        return app.listen({ port: config.port, host: config.host });
      },
      close: () => {
        draining = true;
        return app.close();
      },
    };
  } catch (err) {
    await database.close().catch(() => undefined);
    if (migrationDatabase !== database) await migrationDatabase.close().catch(() => undefined);
    redis?.disconnect();
    throw err;
  }
}
