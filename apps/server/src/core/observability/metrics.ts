import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import type { PoolStats } from '../db/database.js';
import { addRouteHook } from '../http/route-hooks.js';
import type { JobStatus } from '../jobs/types.js';

export interface MetricsSources {
  poolStats(): PoolStats;
  queueDepth(): Promise<Record<JobStatus, number>>;
}

export interface Metrics {
  registry: Registry;
  eventsAppended: Counter;
}

/**
 * Prometheus metrics: HTTP latency by route and status, Node's defaults (event-loop lag, heap, GC),
 * the database pool, job queue depth and events appended. One registry per app, so that tests
 * can build several apps in one process. Create it before any route is registered: each route gets
 * its own latency hook.
 */
export function createMetrics(app: FastifyInstance, sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

  const httpDuration = new Histogram({
    name: 'lyceum_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern, method and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // The route pattern, never the raw URL: ids in paths would explode the label set. Each route
  // observes its own requests with label sets made once per method and status; requests that
  // matched no route are observed as "unmatched".
  const observerFor = (route: string) => {
    const labelsByStatus = new Map<string, Map<number, LabelValues<string>>>();
    return (request: FastifyRequest, reply: FastifyReply) => {
      const { method } = request;
      const status = reply.statusCode;
      let byStatus = labelsByStatus.get(method);
      if (!byStatus) labelsByStatus.set(method, (byStatus = new Map()));
      let labels = byStatus.get(status);
      if (!labels) byStatus.set(status, (labels = { method, route, status: String(status) }));
      httpDuration.observe(labels, reply.elapsedTime / 1000);
    };
  };
  app.addHook('onRoute', (route) => {
    const observe = observerFor(route.url);
    addRouteHook(route, 'onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      observe(request, reply);
      done();
    });
  });
  const observeUnmatched = observerFor('unmatched');
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) observeUnmatched(request, reply);
    done();
  });

  new Gauge({
    name: 'lyceum_db_pool_connections',
    help: 'Database connections by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = sources.poolStats();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });

  new Gauge({
    name: 'lyceum_jobs',
    help: 'Jobs in the queue by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      for (const [status, count] of Object.entries(await sources.queueDepth())) this.set({ status }, count);
    },
  });

  const eventsAppended = new Counter({ name: 'lyceum_events_appended_total', help: 'Events appended to the event log by this node', registers: [registry] });
  return { registry, eventsAppended };
}
