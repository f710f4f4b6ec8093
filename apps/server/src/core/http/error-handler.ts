import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, preValidationHookHandler, RouteOptions } from 'fastify';
import { isDbError } from '../db/errors.js';
import { AppError, CoreErrors, toProblem, type FieldError } from './problem.js';
import { addRouteHook } from './route-hooks.js';

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
  keyword?: string;
}

/** Ajv issues → `{ path, message }` with a JSON pointer into the part of the request that was wrong. */
function fieldErrors(context: string | undefined, issues: ValidationIssue[]): FieldError[] {
  return issues.map((issue) => {
    let pointer = issue.instancePath ?? '';
    const missing = issue.params?.missingProperty;
    const extra = issue.params?.additionalProperty;
    if (typeof missing === 'string') pointer += `/${missing}`;
    if (typeof extra === 'string') pointer += `/${extra}`;
    const message = typeof extra === 'string' ? 'is not an allowed property' : (issue.message ?? 'is invalid');
    return { path: `/${context ?? 'body'}${pointer}`, message };
  });
}

/** Maps anything thrown while handling a request to an AppError; unknown errors become 500. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDbError(error, 'unique')) return new AppError(409, CoreErrors.CONFLICT, 'The resource already exists or was changed concurrently.');
  if (isDbError(error, 'foreign_key')) return new AppError(409, CoreErrors.CONFLICT, 'The request refers to something that does not exist (any more).');
  if (isDbError(error, 'invalid_text')) return new AppError(400, CoreErrors.REQUEST_MALFORMED, 'The request contains text that cannot be stored.');
  if (isDbError(error, 'busy') || isDbError(error, 'serialization')) {
    return new AppError(503, CoreErrors.SERVICE_UNAVAILABLE, 'The database is busy; retry shortly.', { headers: { 'retry-after': '1' } });
  }
  if (isDbError(error, 'unavailable')) {
    return new AppError(503, CoreErrors.SERVICE_UNAVAILABLE, 'The database is not answering; retry shortly.', { headers: { 'retry-after': '5' } });
  }
  const fe = error as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (fe?.validation) {
    return new AppError(422, CoreErrors.VALIDATION_FAILED, 'The request does not match the schema.', {
      errors: fieldErrors(fe.validationContext, fe.validation),
    });
  }
  switch (fe?.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError(414, CoreErrors.URI_TOO_LONG, 'A path segment is longer than any identifier can be.');
    case 'FST_ERR_BAD_URL':
      return new AppError(400, CoreErrors.REQUEST_MALFORMED, 'The URL is malformed.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, CoreErrors.PAYLOAD_TOO_LARGE, 'The request body is larger than the limit.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(fe.statusCode ?? 415, fe.statusCode === 400 ? CoreErrors.REQUEST_MALFORMED : CoreErrors.UNSUPPORTED_MEDIA_TYPE, fe.message);
  }
  const status = fe?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 429) return new AppError(429, CoreErrors.RATE_LIMITED, fe.message);
    // Fastify's own 4xx (bad JSON, empty body, bad URL encoding) are malformed requests.
    return new AppError(status, status === 400 ? CoreErrors.REQUEST_MALFORMED : `HTTP_${status}`, fe.message);
  }
  return new AppError(500, CoreErrors.INTERNAL, 'An unexpected error occurred. Quote the request id when reporting it.');
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  // Set here too: errors the router raises never reach the onSend hook that sets it.
  reply.header('x-request-id', request.id);
  return reply.code(error.status).type('application/problem+json').send(toProblem(error, request.id));
}

/** True when any string (or key) in `value` holds a NUL character. Iterative: bodies may nest deeply. */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return true;
    } else if (item && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (key.includes('\u0000')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

type RequestPart = 'params' | 'query' | 'body';

/** Fastify parses no body for these methods. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD']);

/**
 * The parts of a request that a route can take text from: path parameters if its path has any, the
 * query string if it declares a schema for it (a handler cannot read one otherwise: the type
 * provider types an undeclared query as `unknown`), the body for any method that may carry one.
 */
export function inputPartsOf(route: Pick<RouteOptions, 'url' | 'method' | 'schema'>): RequestPart[] {
  const parts: RequestPart[] = [];
  if (/[:*]/.test(route.url)) parts.push('params');
  const schema = route.schema as { querystring?: unknown; query?: unknown } | undefined;
  if (schema?.querystring !== undefined || schema?.query !== undefined) parts.push('query');
  if ([route.method].flat().some((method) => !BODYLESS_METHODS.has(method))) parts.push('body');
  return parts;
}

/**
 * NUL cannot be stored in PostgreSQL text and is never meaningful in our inputs: refused up front,
 * the same way on every database. The check is a hook of each route that takes input, made at
 * registration for the parts it takes, so a route without input (health probes) pays nothing.
 */
function nulCheckFor(parts: RequestPart[]): preValidationHookHandler {
  return (request, _reply, done) => {
    for (const part of parts) {
      if (containsNul(request[part])) return done(new AppError(400, CoreErrors.REQUEST_MALFORMED, 'Text in the request may not contain NUL characters.'));
    }
    done();
  };
}

/** One place renders every error as problem+json; 5xx internals are logged, never shown. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const parts = inputPartsOf(route);
    // First, as a global hook would run: before any route's own preValidation reads the input.
    if (parts.length) addRouteHook(route, 'preValidation', nulCheckFor(parts), 'first');
  });
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(request, reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, new AppError(404, CoreErrors.NOT_FOUND, `No route for ${request.method} ${request.url.split('?')[0]}.`)),
  );
}
