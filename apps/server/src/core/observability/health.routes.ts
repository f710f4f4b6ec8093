import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError, CoreErrors } from '../http/problem.js';
import type { Metrics } from './metrics.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves when healthy; throws (with a short reason) when not. */
  check(): Promise<void>;
}

const CheckResult = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]), error: Type.Optional(Type.String()) });
const Readiness = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]), checks: Type.Record(Type.String(), CheckResult) });

/** Parses METRICS_ALLOW entries (IPs or CIDRs) into a matcher. */
export function networkAllowList(entries: string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (!isIPv4(address) && !isIPv6(address)) throw new Error(`METRICS_ALLOW: "${entry}" is not an IP address or CIDR`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (ip) => {
    const mapped = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    return list.check(mapped, isIPv6(mapped) ? 'ipv6' : 'ipv4');
  };
}

/** A dependency that hangs must make readiness fail promptly, not hang the probe with it. */
const CHECK_TIMEOUT_MS = 2000;

function withinTime<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function registerHealthRoutes(app: FastifyInstance, { checks, metrics, metricsAllow }: { checks: ReadinessCheck[]; metrics: Metrics; metricsAllow: string[] }) {
  app.get(
    '/health/live',
    {
      config: { access: 'public', rateLimit: false },
      schema: { tags: ['health'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: { access: 'public', rateLimit: false },
      schema: {
        tags: ['health'],
        summary: 'The node can serve traffic: database reachable, Redis reachable when configured, migrations applied',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(
        checks.map(async ({ name, check }) => {
          try {
            await withinTime(check(), CHECK_TIMEOUT_MS, `no answer within ${CHECK_TIMEOUT_MS} ms`);
            return [name, { status: 'ok' as const }] as const;
          } catch (err) {
            return [name, { status: 'fail' as const, error: (err as Error).message }] as const;
          }
        }),
      );
      const healthy = results.every(([, r]) => r.status === 'ok');
      return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'fail', checks: Object.fromEntries(results) });
    },
  );

  const allowed = networkAllowList(metricsAllow);
  app.get(
    '/metrics',
    {
      config: { access: 'public', rateLimit: false },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        description: 'Readable from the networks in METRICS_ALLOW, or by a caller with the `metrics:read` permission.',
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: Type.String() } } } },
      },
    },
    async (request, reply) => {
      if (!allowed(request.ip) && !request.principal?.permissions.has('metrics:read')) {
        throw new AppError(403, CoreErrors.FORBIDDEN, 'Metrics are readable from allowed networks or with the metrics:read permission.');
      }
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
}
