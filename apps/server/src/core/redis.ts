import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { redactUrl } from './config/options.js';
import { StartupError } from './startup-error.js';

/** How long a node waits for Redis at start: time for one started alongside it, short enough to fail fast. */
const START_TIMEOUT_MS = 5000;

export interface RedisSettings {
  url: string;
  /** Bound of every command (REDIS_TIMEOUT_MS). */
  timeoutMs: number;
}

/**
 * The node's Redis client, once Redis answers. One that does not answer within 5 s
 * stops the start with a StartupError naming REDIS_URL. Later outages are logged once when they
 * begin and once when they end; in between ioredis reconnects by itself (backing off to every 2 s).
 */
export async function connectRedis(settings: RedisSettings, logger: FastifyBaseLogger): Promise<Redis> {
  const client = new Redis(settings.url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, commandTimeout: settings.timeoutMs });
  let lastError: string | undefined;
  // Each failed attempt is an 'error' event; only the last one matters, and only if Redis never answers.
  const noteError = (err: Error) => void (lastError = err.message);
  client.on('error', noteError);
  if (!(await readyWithin(client, START_TIMEOUT_MS))) {
    client.disconnect();
    throw new StartupError(
      `REDIS_URL: Redis at ${redactUrl(settings.url)} did not answer within ${START_TIMEOUT_MS / 1000} s (${lastError ?? 'no reply'}). ` +
        'Check that Redis is running and reachable from this host, and the host, port and password in REDIS_URL.',
    );
  }
  client.off('error', noteError);
  reportOutages(client, logger);
  return client;
}

/** Lets commands already sent finish when Redis is there; does not wait for a Redis that is away. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

function readyWithin(client: Redis, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, ms);
    client.once('ready', onReady);
  });
}

/** One warning when Redis goes away and one line when it is back: the reconnection attempts in between are not news. */
function reportOutages(client: Redis, logger: FastifyBaseLogger): void {
  let downSince: number | undefined;
  client.on('error', (err) => {
    if (downSince !== undefined) return;
    downSince = performance.now();
    logger.warn({ err: err.message }, 'redis unreachable, reconnecting; until it is back, rate limits are not shared between nodes and typing and presence stay on this node');
  });
  client.on('ready', () => {
    if (downSince === undefined) return;
    logger.info({ downForMs: Math.round(performance.now() - downSince) }, 'redis reachable again');
    downSince = undefined;
  });
}
