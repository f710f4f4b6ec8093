import cors from 'cors';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/**
 * CORS for the listed origins (`*`: any origin, without credentials). Only a request with an
 * `Origin` header is handed to the `cors` middleware: a same-origin or non-browser request needs
 * nothing from it but `Vary: Origin`, which the caller sends with its fixed headers. Returns the
 * `onRequest` step for the caller's one per-request hook.
 */
export function corsStep(app: FastifyInstance, corsOrigins: string[]) {
  const allowAny = corsOrigins.includes('*');
  const applyCors = cors({
    origin: (origin, callback) => callback(null, allowAny || corsOrigins.includes(origin!)),
    // Credentials (the refresh cookie) only for listed origins, never for the wildcard.
    credentials: !allowAny,
    // Lists as strings: the middleware would join them with bare commas on every request.
    methods: 'GET, HEAD, POST, PUT, PATCH, DELETE',
    exposedHeaders: 'etag, location, x-request-id, ratelimit-limit, ratelimit-remaining, ratelimit-reset, retry-after',
    maxAge: 600,
  });

  // Preflights CORS did not answer: malformed ones, or from an origin not listed (as if no route).
  app.options('*', { config: { access: 'public' }, schema: { hide: true } }, (request, reply) => {
    if (isMalformedPreflight(request)) return reply.code(400).type('text/plain').send('Invalid Preflight Request');
    return reply.callNotFound();
  });

  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (request.headers.origin === undefined || isMalformedPreflight(request)) return done();
    // The middleware answers a preflight itself (status, headers, end), through the reply.
    applyCors(request, middlewareResponse(reply), done);
  };
}

/** A preflight must say where it comes from and which method it asks for. */
const isMalformedPreflight = (request: FastifyRequest) =>
  request.method === 'OPTIONS' && (request.headers.origin === undefined || request.headers['access-control-request-method'] === undefined);

/** What the middleware uses of a Node response (`vary` reads the header it extends), mapped onto Fastify's reply. */
const middlewareResponse = (reply: FastifyReply) => ({
  getHeader: (name: string) => reply.getHeader(name),
  setHeader: (name: string, value: string) => reply.header(name, value),
  set statusCode(code: number) {
    reply.code(code);
  },
  end: () => reply.send(),
});
