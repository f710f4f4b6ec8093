import type { FastifyReply, onRequestHookHandler } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { clientKey } from './client-key.js';
import { AppError, CoreErrors } from './problem.js';

export interface ClientRateLimitOptions {
  max: number;
  windowMs: number;
  /** Shared counters in cluster mode, so the limit holds across nodes. */
  redis?: { client: Redis; prefix: string };
}

/**
 * Counts requests per client (IPv4 address or IPv6 /64) in fixed windows. In memory a key lives only
 * until its window ends, so memory is bounded by the distinct clients seen in one window. In Redis the
 * counters are shared by every node; while Redis is unreachable each node falls back to counting in
 * its own memory, so an outage neither takes the API down nor lifts the limit.
 */
export function createClientLimiter(options: ClientRateLimitOptions): RateLimiterAbstract {
  const window = { points: options.max, duration: options.windowMs / 1000 };
  const memory = new RateLimiterMemory({ ...window, keyPrefix: '' });
  if (!options.redis) return memory;
  return new RateLimiterRedis({
    ...window,
    storeClient: options.redis.client,
    keyPrefix: `${options.redis.prefix}rate`,
    // Without it a command waits in ioredis's offline queue while Redis is away, and so would the request.
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
}

/**
 * The global limit as an `onRequest` hook: `RateLimit-*` headers (IETF draft names) on every answer,
 * and a 429 problem with `Retry-After` once the client's window is used up. Callback-style, as every
 * per-request hook here: an async hook costs a promise more per request.
 */
export function clientRateLimitHook(limiter: RateLimiterAbstract): onRequestHookHandler {
  const limit = String(limiter.points);
  const setHeaders = (reply: FastifyReply, remaining: number, resetSeconds: number) =>
    reply.header('ratelimit-limit', limit).header('ratelimit-remaining', String(remaining)).header('ratelimit-reset', String(resetSeconds));
  return (request, reply, done) => {
    limiter.consume(clientKey(request.ip)).then(
      (allowed) => {
        setHeaders(reply, allowed.remainingPoints, Math.ceil(allowed.msBeforeNext / 1000));
        done();
      },
      (refusal: unknown) => {
        if (!(refusal instanceof RateLimiterRes)) return done(refusal as Error);
        const retryAfter = Math.ceil(refusal.msBeforeNext / 1000);
        setHeaders(reply, 0, retryAfter);
        done(rateLimited(retryAfter));
      },
    );
  };
}

/** The 429 every HTTP limit answers with. */
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError(429, CoreErrors.RATE_LIMITED, `Too many requests; retry in ${retryAfterSeconds} s.`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
