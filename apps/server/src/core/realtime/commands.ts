import type { TSchema } from '@sinclair/typebox';
import type { Principal } from '../http/access.js';

/**
 * A client → server command over Socket.io (`chat:send`), declared by the module that owns it and
 * dispatched by core's gateway: the payload is checked against `schema`, `handle` runs as the
 * socket's principal, and the client's acknowledgement gets `{ ok: true, ...result }` or
 * `{ ok: false, error: { code, message } }`: a 4xx AppError's code, `SERVICE_UNAVAILABLE` when the
 * database is busy or not answering (retry), anything else `INTERNAL`.
 * Modules never see the socket.
 */
export interface SocketCommand<P = any, R extends Record<string, unknown> = Record<string, unknown>> {
  schema: TSchema;
  handle(principal: Principal, payload: P): Promise<R>;
}

export type SocketCommands = Record<string, SocketCommand>;

/**
 * Rooms a socket joins on connect without asking (a user's conversations), so that a client that
 * reconnects with its last seq catches up on all of them. The module vouches for them (no per-room
 * check); core keeps only prefixes that a module's `rooms` owns. Errors count as "none".
 */
export type AutoRooms = (principal: Principal) => Promise<string[]>;

/** Commands core's gateway handles itself; a module cannot take these names. */
export const RESERVED_COMMANDS = ['room:join', 'room:leave', 'typing:start', 'typing:stop', 'presence:update'] as const;
