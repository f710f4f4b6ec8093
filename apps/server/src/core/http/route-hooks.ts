import type { RouteOptions } from 'fastify';

type RouteHookName = 'onRequest' | 'preValidation' | 'preHandler' | 'onSend' | 'onResponse';

const hookList = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);

/**
 * Adds a hook to one route from an `onRoute` hook. Per-route hooks know their route when they are
 * made, so they pay nothing per request to find its options (`request.routeOptions` builds a new
 * object on every read), and routes they do not concern pay nothing at all.
 */
export function addRouteHook(route: RouteOptions, name: RouteHookName, hook: unknown, position: 'first' | 'last' = 'last'): void {
  const hooks = hookList(route[name] as unknown);
  (route as unknown as Record<RouteHookName, unknown[]>)[name] = position === 'first' ? [hook, ...hooks] : [...hooks, hook];
}
