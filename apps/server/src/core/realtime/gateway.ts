import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { Server, type Socket } from 'socket.io';
import type { StoredEvent } from '../events/types.js';
import type { AccessGuard, Principal } from '../http/access.js';
import { AppError } from '../http/problem.js';
import type { Fanout } from './fanout.js';
import { authorizeScope, type RoomAuthorizers } from './rooms.js';

export interface GatewayOptions {
  server: HttpServer;
  fanout: Fanout;
  access: AccessGuard;
  rooms: RoomAuthorizers;
  corsOrigins: string[];
  /** Cluster mode: ephemeral signals (typing, presence) travel between nodes through Redis. */
  redis?: Redis;
  maxPayloadBytes?: number;
  /** Messages a socket may send per second before it is disconnected. */
  messagesPerSecond?: number;
}

/** The wire form of a persisted event: its log seq lets the client resume exactly where it was. */
export const wireEvent = (event: StoredEvent) => ({
  seq: event.seq,
  id: event.id,
  type: event.type,
  payload: event.payload,
  actorId: event.actorId,
  createdAt: event.createdAt,
});

/** `chat.message.created` → `chat:message.created`: API.md names realtime events `<module>:<event>`. */
export const realtimeName = (type: string): string => type.replace('.', ':');

interface SocketData {
  principal: Principal;
}

type Ack = (response: { ok: true } | { ok: false; error: { code: string; message: string } }) => void;

const refuse = (code: string, message = code) => Object.assign(new Error(message), { data: { code } });

/**
 * Socket.io at `/socket.io` on the API's own port. The handshake authenticates with the access
 * token through the same authenticator as HTTP; every socket joins `user:<id>`; other rooms need
 * the owning module's yes. Persisted events come from the fanout (which tails the event log on
 * this node), so each node emits only to its own sockets and nothing is sent twice.
 */
export function createRealtimeGateway(options: GatewayOptions) {
  const { fanout, access, rooms } = options;
  const allowAny = options.corsOrigins.includes('*');
  // The adapter blocks on stream reads, so it gets a Redis connection of its own.
  // XREAD blocks for seconds by design: the command timeout of the shared client must not apply.
  const adapterClient = options.redis?.duplicate({ commandTimeout: undefined });
  const io = new Server(options.server, {
    path: '/socket.io',
    serveClient: false,
    maxHttpBufferSize: options.maxPayloadBytes ?? 64 * 1024,
    cors: { origin: allowAny ? true : options.corsOrigins, credentials: !allowAny },
    ...(adapterClient ? { adapter: createAdapter(adapterClient) } : {}),
  });
  const limiter = new RateLimiterMemory({ points: options.messagesPerSecond ?? 20, duration: 1 });

  io.use(async (socket, next) => {
    const origin = socket.handshake.headers.origin;
    // Native apps send no Origin; browsers must come from an allowed one.
    if (origin && !allowAny && !options.corsOrigins.includes(origin)) return next(refuse('ORIGIN_NOT_ALLOWED', 'This origin may not connect.'));
    const token: unknown = socket.handshake.auth?.token;
    if (typeof token !== 'string' || !token) return next(refuse('AUTH_REQUIRED', 'Send the access token as auth.token.'));
    try {
      const principal = await access.authenticate({ headers: { authorization: `Bearer ${token}` }, ip: socket.handshake.address });
      if (!principal) return next(refuse('AUTH_INVALID_TOKEN'));
      (socket.data as SocketData).principal = principal;
      next();
    } catch (err) {
      next(refuse(err instanceof AppError ? err.code : 'AUTH_INVALID_TOKEN', err instanceof AppError ? err.message : 'Invalid token.'));
    }
  });

  io.on('connection', (socket) => void onConnection(socket));

  async function onConnection(socket: Socket) {
    const { principal } = socket.data as SocketData;
    const endTimer = principal.expiresAt ? setTimeout(() => end('AUTH_EXPIRED'), Math.max(0, principal.expiresAt - Date.now())) : undefined;
    endTimer?.unref();
    function end(code: string) {
      socket.emit('session:ended', { code });
      socket.disconnect(true);
    }

    // Abuse: a flood of messages disconnects this client only.
    socket.use((_packet, next) => {
      limiter.consume(socket.id).then(
        () => next(),
        () => end('RATE_LIMITED'),
      );
    });
    socket.on('error', () => socket.disconnect(true));
    socket.on('disconnect', () => {
      clearTimeout(endTimer);
      fanout.disconnect(socket.id);
    });

    socket.on('room:join', async (request: unknown, ack?: Ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const room = (request as { room?: unknown })?.room;
      if (typeof room !== 'string' || !(await authorizeScope(rooms, principal, room))) {
        return reply({ ok: false, error: { code: 'REALTIME_ROOM_FORBIDDEN', message: 'You may not join this room.' } });
      }
      await socket.join(room);
      fanout.join(socket.id, room);
      reply({ ok: true });
    });
    socket.on('room:leave', async (request: unknown, ack?: Ack) => {
      const room = (request as { room?: unknown })?.room;
      if (typeof room === 'string' && room !== `user:${principal.userId}`) {
        await socket.leave(room);
        fanout.leave(socket.id, room);
      }
      if (typeof ack === 'function') ack({ ok: true });
    });

    const userRoom = `user:${principal.userId}`;
    await socket.join(userRoom);
    const requested = Array.isArray(socket.handshake.auth?.rooms) ? (socket.handshake.auth.rooms as unknown[]).filter((r): r is string => typeof r === 'string').slice(0, 100) : [];
    const allowed = [userRoom];
    for (const room of requested) if (room !== userRoom && (await authorizeScope(rooms, principal, room))) allowed.push(room);
    await socket.join(allowed);

    const lastSeq = Number(socket.handshake.auth?.lastSeq);
    await fanout.connect(
      {
        id: socket.id,
        sessionId: principal.sessionId,
        send: (event) => socket.emit(realtimeName(event.type), wireEvent(event)),
        close: end,
        resetRequired: (oldestSeq) => socket.emit('sync:reset', { oldestSeq }),
      },
      allowed,
      Number.isSafeInteger(lastSeq) && lastSeq >= 0 ? lastSeq : undefined,
    );
    socket.emit('realtime:ready', { rooms: allowed });
  }

  const offSessionEnded = access.onSessionEnded((sessionId, code) => fanout.endSession(sessionId, code));

  return {
    io,
    /** Disconnects every socket (before the HTTP server closes: open WebSockets would hold it). */
    async close() {
      offSessionEnded();
      io.local.disconnectSockets(true);
      io.engine.close();
      adapterClient?.disconnect();
    },
  };
}

export type RealtimeGateway = ReturnType<typeof createRealtimeGateway>;
