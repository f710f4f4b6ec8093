import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isDbError } from '../db/errors.js';
import { AppError, CoreErrors } from './problem.js';
import { addRouteHook } from './route-hooks.js';

const KEY = /^[\x21-\x7e]{1,255}$/;
const REPLAYED_HEADERS = ['content-type', 'location', 'etag'];

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKeyHash?: string;
  }
}

export interface IdempotencyOptions {
  db: Db;
  clock: Clock;
  /** How long a stored response is replayed; API.md promises at least 24 h. */
  ttlMs?: number;
  /** A request still unfinished after this long is presumed dead (crash), and its key reusable. */
  staleAfterMs?: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/**
 * `Idempotency-Key` on POST: the first response (2xx or 4xx) is stored and replayed to a retry with
 * the same key and body; the same key with another body is 422. Keys are scoped to the caller and
 * the route, so two users can never collide or read each other's responses.
 */
export function registerIdempotency(app: FastifyInstance, { db, clock, ttlMs = 24 * 3600_000, staleAfterMs = 60_000 }: IdempotencyOptions) {
  const scopeOf = (request: FastifyRequest, key: string) =>
    sha256([request.principal?.userId ?? 'anonymous', request.method, request.url.split('?')[0], key].join('\n'));

  async function claim(request: FastifyRequest, reply: FastifyReply) {
    const key = request.headers['idempotency-key'];
    if (key === undefined) return;
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new AppError(400, CoreErrors.IDEMPOTENCY_KEY_INVALID, 'Idempotency-Key must be 1–255 visible ASCII characters.');
    }
    const keyHash = scopeOf(request, key);
    const bodyHash = sha256(JSON.stringify(request.body ?? null));
    const now = clock.now();

    for (let claimAttempt = 0; claimAttempt < 2; claimAttempt++) {
      try {
        await db
          .insertInto('core_idempotency')
          .values({ key_hash: keyHash, body_hash: bodyHash, created_at: now.toISOString(), expires_at: new Date(now.getTime() + ttlMs).toISOString() })
          .execute();
        request.idempotencyKeyHash = keyHash;
        return;
      } catch (err) {
        if (!isDbError(err, 'unique')) throw err;
      }
      const stored = await db.selectFrom('core_idempotency').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
      if (!stored) continue; // removed in between (expired or failed): claim it again
      const abandoned = stored.status_code === null && now.getTime() - Date.parse(stored.created_at) > staleAfterMs;
      if (stored.expires_at <= now.toISOString() || abandoned) {
        await db.deleteFrom('core_idempotency').where('key_hash', '=', keyHash).where('created_at', '=', stored.created_at).execute();
        continue;
      }
      if (stored.body_hash !== bodyHash) {
        throw new AppError(422, CoreErrors.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was already used with a different request body.');
      }
      if (stored.status_code === null) {
        throw new AppError(409, CoreErrors.IDEMPOTENCY_IN_PROGRESS, 'A request with this Idempotency-Key is still being processed.', {
          headers: { 'retry-after': '1' },
        });
      }
      const headers = JSON.parse(stored.headers ?? '{}') as Record<string, string>;
      return reply.code(stored.status_code).headers({ ...headers, 'idempotent-replayed': 'true' }).send(stored.body ?? '');
    }
    throw new AppError(409, CoreErrors.IDEMPOTENCY_IN_PROGRESS, 'A request with this Idempotency-Key is still being processed.');
  }

  async function store(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    const keyHash = request.idempotencyKeyHash;
    if (!keyHash) return payload;
    request.idempotencyKeyHash = undefined;
    // A server error is not an answer: let the client's retry run the request again.
    if (reply.statusCode >= 500 || (payload !== null && payload !== undefined && typeof payload !== 'string')) {
      await db.deleteFrom('core_idempotency').where('key_hash', '=', keyHash).execute();
      return payload;
    }
    const headers = Object.fromEntries(
      REPLAYED_HEADERS.flatMap((name) => {
        const value = reply.getHeader(name);
        return value === undefined ? [] : [[name, String(value)]];
      }),
    );
    await db
      .updateTable('core_idempotency')
      .set({ status_code: reply.statusCode, headers: JSON.stringify(headers), body: payload ?? '' })
      .where('key_hash', '=', keyHash)
      .execute();
    return payload;
  }

  // Only POST routes carry the hooks, first in line: other requests pay nothing for idempotency.
  app.addHook('onRoute', (route) => {
    if (!(Array.isArray(route.method) ? route.method : [route.method]).includes('POST')) return;
    addRouteHook(route, 'preHandler', claim, 'first');
    addRouteHook(route, 'onSend', store, 'first');
  });

  return {
    /** Deletes expired keys; run by a scheduled job. */
    async prune(): Promise<number> {
      const result = await db.deleteFrom('core_idempotency').where('expires_at', '<=', clock.now().toISOString()).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
