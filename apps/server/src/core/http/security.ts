import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { clientKey } from './client-key.js';
import { clientRateLimitHook, createClientLimiter, rateLimited, type ClientRateLimitOptions } from './client-rate-limit.js';
import { corsStep } from './cors.js';
import { addRouteHook } from './route-hooks.js';

export interface SecurityOptions {
  corsOrigins: string[];
  rateLimit: { max: number; windowMs: number };
  /** Shared counters in cluster mode, so the limit holds across nodes. */
  redis?: ClientRateLimitOptions['redis'];
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

/**
 * The headers every response carries. An API answer is never a page, so it gets what the OWASP REST
 * Security cheat sheet asks of API responses (it may not be framed, sniffed or load anything;
 * HTTPS only) rather than helmet's defaults for HTML, which nearly tripled every response's header
 * bytes. Plus `Vary: Origin` (with an Origin, a response may carry CORS headers; without, none).
 * Exported for the answers the router gives before any hook runs (app.ts, `frameworkErrors`).
 */
export const fixedHeaders: Readonly<Record<string, string>> = {
  ...helmetHeaders({
    contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-site' },
    originAgentCluster: false,
    referrerPolicy: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: { action: 'deny' },
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  }),
  vary: 'Origin',
};

/**
 * What an HTML page (the `/docs` reference) gets instead: helmet's defaults. A route serving a page
 * may replace the content security policy with its own in a later `onSend` hook, as `/docs` does.
 */
const documentHeaders: Readonly<Record<string, string>> = helmetHeaders({
  contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } },
  crossOriginResourcePolicy: { policy: 'same-site' },
});

const isHtml = (contentType: unknown) => typeof contentType === 'string' && contentType.startsWith('text/html');

/** The baseline every response gets: helmet headers, the CORS allowlist, a global rate limit. */
export async function registerSecurity(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  const cors = corsStep(app, options.corsOrigins);
  // Hooks on every request are callback-style: an async hook costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(fixedHeaders);
    cors(request, reply, done);
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (isHtml(reply.getHeader('content-type'))) reply.headers(documentHeaders);
    done(null, payload);
  });

  // Routes with limits of their own (`config.rateLimit`) are served by the plugin; every other route
  // by the global limit, which costs less per request than the plugin's hook.
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
    errorResponseBuilder: (_request, context) => rateLimited(Math.ceil(context.ttl / 1000)),
  });
  const globalLimit = clientRateLimitHook(createClientLimiter({ ...options.rateLimit, redis: options.redis }));
  app.addHook('onRoute', (route) => {
    // First in the route's line: a flood is turned away before any credentials are checked.
    if (route.config?.rateLimit === undefined) addRouteHook(route, 'onRequest', globalLimit, 'first');
  });
}
