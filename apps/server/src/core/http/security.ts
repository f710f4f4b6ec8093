import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { Redis } from 'ioredis';
import { clientKey } from './client-key.js';
import { AppError, CoreErrors } from './problem.js';
import { addRouteHook } from './route-hooks.js';

export interface SecurityOptions {
  corsOrigins: string[];
  rateLimit: { max: number; windowMs: number };
  /** Shared counters in cluster mode, so the limit holds across nodes. */
  redis?: { client: Redis; prefix: string };
}

/**
 * The headers helmet would set, computed once. Our policy has no per-request parts (no CSP nonces),
 * and running helmet's middleware on every request halved throughput in the benchmark.
 */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as never, response as never, () => undefined);
  return headers;
}

/** The baseline every response gets: helmet headers, the CORS allowlist, a global rate limit. */
export async function registerSecurity(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  const securityHeaders = helmetHeaders({
    contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } },
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
  // Hooks on every request are callback-style: an async hook costs a promise per request.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(securityHeaders);
    done();
  });

  const allowAny = options.corsOrigins.includes('*');
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin === undefined || allowAny || options.corsOrigins.includes(origin)),
    // Credentials (the refresh cookie) only for listed origins, never for the wildcard.
    credentials: !allowAny,
    // The plugin's default answers preflights with GET, HEAD and POST only; the API also patches and deletes.
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: ['etag', 'location', 'x-request-id', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'],
    maxAge: 600,
  });

  // The plugin serves routes with limits of their own (`config.rateLimit`), and the global limit as a
  // hook of every other route (in memory on one node, in Redis when nodes share it).
  await app.register(rateLimit, {
    global: false,
    max: options.rateLimit.max,
    timeWindow: options.rateLimit.windowMs,
    enableDraftSpec: true,
    // Per IPv4 address or IPv6 /64: routes with a key of their own (per user) set theirs.
    keyGenerator: (request) => clientKey(request.ip),
    ...(options.redis ? { redis: options.redis.client, nameSpace: `${options.redis.prefix}rate:` } : {}),
    // A rate-limit store outage must not take the API down with it.
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new AppError(429, CoreErrors.RATE_LIMITED, `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s.`, {
        headers: { 'retry-after': String(Math.ceil(context.ttl / 1000)) },
      }),
  });
  const globalLimit = app.rateLimit() as unknown as onRequestHookHandler;
  app.addHook('onRoute', (route) => {
    // First in the route's line: a flood is turned away before any credentials are checked.
    if (route.config?.rateLimit === undefined) addRouteHook(route, 'onRequest', globalLimit, 'first');
  });
}
