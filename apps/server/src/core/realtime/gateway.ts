import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { Server, type Socket } from 'socket.io';
import type { StoredEvent } from '../events/types.js';
import type { AccessGuard, Principal } from '../http/access.js';
import type { Clock } from '../clock.js';
import { toAppError } from '../http/error-handler.js';
import { AppError } from '../http/problem.js';
import { coalesceWrites } from './coalesced-writes.js';
import { RESERVED_COMMANDS, type AutoRooms, type SocketCommands } from './commands.js';
import type { Fanout, StreamBatch } from './fanout.js';
import { authorizeScope, type RoomAuthorizers } from './rooms.js';

export interface GatewayOptions {
  server: HttpServer;
  fanout: Fanout;
  access: AccessGuard;
  rooms: RoomAuthorizers;
  /** Times token expiry and last-seen, like every other part of the server. */
  clock: Clock;
  /** The wire name of each event type (default: `eventNamer()`). */
  eventName?: EventNamer;
  corsOrigins: string[];
  /** Cluster mode: ephemeral signals (typing, presence) travel between nodes through Redis. */
  redis?: Redis;
  maxPayloadBytes?: number;
  /** Messages a socket may send per second before it is disconnected. */
  messagesPerSecond?: number;
  /** Client → server commands the modules declare (`chat:send`), by event name. */
  commands?: SocketCommands;
  /** Rooms a socket joins on connect without asking (each module's `socketRooms`). */
  autoRooms?: AutoRooms[];
  /** A typing indicator ends by itself after this long unless renewed (default 6 s). */
  typingTtlMs?: number;
}

export type PresenceStatus = 'online' | 'away' | 'offline';

/** The wire form of a persisted event: its log seq lets the client resume exactly where it was. */
export const wireEvent = (event: StoredEvent) => ({
  seq: event.seq,
  id: event.id,
  type: event.type,
  payload: event.payload,
  actorId: event.actorId,
  createdAt: event.createdAt,
});

/** Names an event type on the wire (Socket.io event, SSE `event:`). */
export type EventNamer = (type: string) => string;

/**
 * `chat.message.created` → `chat:message.created`: API.md names realtime events `<module>:<event>`;
 * where it fixes a shorter name (`chat:message`, `notification:new`), the owning module lists it.
 */
export const eventNamer =
  (fixed: Readonly<Record<string, string>> = {}): EventNamer =>
  (type) =>
    fixed[type] ?? type.replace('.', ':');

interface SocketData {
  principal: Principal;
  /** This device's presence: a user is online if any device is, away if all are away. */
  presence: 'online' | 'away';
}

type Ack = (response: ({ ok: true } & Record<string, unknown>) | { ok: false; error: { code: string; message: string } }) => void;

/** The code a socket of an ended session is disconnected with (`session:ended`). */
export const SESSION_REVOKED = 'AUTH_SESSION_REVOKED';

const failure = (code: string, message: string) => ({ ok: false as const, error: { code, message } });
const isRoom = (room: unknown): room is string => typeof room === 'string' && room.length > 0 && room.length <= 200;

const refuse = (code: string, message = code) => Object.assign(new Error(message), { data: { code } });

/**
 * Socket.io at `/socket.io` on the API's own port. The handshake authenticates with the access
 * token through the same authenticator as HTTP; every socket joins `user:<id>`; other rooms need
 * the owning module's yes. Persisted events come from the fanout (which tails the event log on
 * this node), so each node emits only to its own sockets and nothing is sent twice.
 */
export function createRealtimeGateway(options: GatewayOptions) {
  const { fanout, access, rooms, clock } = options;
  const eventName = options.eventName ?? eventNamer();
  const allowAny = options.corsOrigins.includes('*');
  const adapterClient = options.redis && socketAdapterClient(options.redis);
  const io = new Server(options.server, {
    path: '/socket.io',
    serveClient: false,
    maxHttpBufferSize: options.maxPayloadBytes ?? 64 * 1024,
    cors: { origin: allowAny ? true : options.corsOrigins, credentials: !allowAny },
    ...(adapterClient ? { adapter: createAdapter(adapterClient) } : {}),
  });
  const writes = coalesceWrites(io.engine);
  const limiter = new RateLimiterMemory({ points: options.messagesPerSecond ?? 20, duration: 1 });
  const typingTtlMs = options.typingTtlMs ?? 6000;
  const commands = new Map<string, { check: TypeCheck<TSchema>; handle: SocketCommands[string]['handle'] }>();
  for (const [name, command] of Object.entries(options.commands ?? {})) {
    if ((RESERVED_COMMANDS as readonly string[]).includes(name)) throw new Error(`Socket command ${name} is reserved by core`);
    commands.set(name, { check: TypeCompiler.Compile(command.schema), handle: command.handle });
  }

  /** A user's presence over all their devices, on every node (the adapter asks the other nodes). */
  async function presenceOf(userId: string): Promise<PresenceStatus> {
    const sockets = await io.in(`user:${userId}`).fetchSockets();
    if (!sockets.length) return 'offline';
    return sockets.some((s) => (s.data as SocketData).presence !== 'away') ? 'online' : 'away';
  }
  async function announcePresence(userId: string) {
    const status = await presenceOf(userId).catch(() => undefined);
    if (!status) return;
    io.to(`presence:${userId}`).emit('presence:update', { userId, status, ...(status === 'offline' ? { lastSeenAt: clock.now().toISOString() } : {}) });
  }

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

  // Every socket is in the room of its own id: a broadcast to the ids the fanout chose encodes the packet once.
  // `local`: each node tails the log itself, so this node's sockets are the only ones it serves.
  const sockets: StreamBatch = { sendMany: (ids, event) => io.local.to(ids).emit(eventName(event.type), wireEvent(event)) };

  async function onConnection(socket: Socket) {
    const { principal } = socket.data as SocketData;
    const endTimer = principal.expiresAt ? setTimeout(() => end('AUTH_EXPIRED'), Math.max(0, principal.expiresAt - clock.now().getTime())) : undefined;
    endTimer?.unref();
    function end(code: string, reason?: string) {
      socket.emit('session:ended', { code, ...(reason && reason !== code ? { reason } : {}) });
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
    (socket.data as SocketData).presence = 'online';
    const typing = new Map<string, NodeJS.Timeout>();
    const stopTyping = (room: string) => {
      const timer = typing.get(room);
      if (!timer) return;
      clearTimeout(timer);
      typing.delete(room);
      socket.to(room).emit('typing:stop', { room, userId: principal.userId });
    };
    socket.on('disconnect', () => {
      clearTimeout(endTimer);
      fanout.disconnect(socket.id);
      for (const room of [...typing.keys()]) stopTyping(room);
      void announcePresence(principal.userId);
    });

    // Ephemeral signals: never stored; they reach the room's other sockets on every node through the adapter.
    socket.on('typing:start', (request: unknown, ack?: Ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const room = (request as { room?: unknown })?.room;
      if (!isRoom(room) || !socket.rooms.has(room) || room.startsWith('user:')) return reply(failure('REALTIME_NOT_IN_ROOM', 'Join the room first.'));
      const renewing = typing.has(room);
      clearTimeout(typing.get(room));
      typing.set(
        room,
        setTimeout(() => stopTyping(room), typingTtlMs),
      );
      if (!renewing) socket.to(room).emit('typing:start', { room, userId: principal.userId, expiresInMs: typingTtlMs });
      reply({ ok: true, expiresInMs: typingTtlMs });
    });
    socket.on('typing:stop', (request: unknown, ack?: Ack) => {
      const room = (request as { room?: unknown })?.room;
      if (isRoom(room)) stopTyping(room);
      if (typeof ack === 'function') ack({ ok: true });
    });
    socket.on('presence:update', (request: unknown, ack?: Ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const status = (request as { status?: unknown })?.status;
      if (status !== 'online' && status !== 'away') return reply(failure('REALTIME_INVALID_PAYLOAD', 'status must be online or away.'));
      (socket.data as SocketData).presence = status;
      void announcePresence(principal.userId);
      reply({ ok: true });
    });

    for (const [name, command] of commands) {
      socket.on(name, async (payload: unknown, ack?: Ack) => {
        const reply = typeof ack === 'function' ? ack : () => undefined;
        if (!command.check.Check(payload)) {
          const first = command.check.Errors(payload).First();
          return reply(failure('VALIDATION_FAILED', first ? `${first.path || '/'}: ${first.message}` : 'Invalid payload.'));
        }
        try {
          reply({ ok: true, ...(await command.handle(principal, payload)) });
        } catch (err) {
          // As over HTTP: a database that is busy or not answering is worth a retry (503), a bug is not shown.
          const problem = toAppError(err);
          reply(problem.status < 500 || problem.status === 503 ? failure(problem.code, problem.message) : failure('INTERNAL', 'The command failed; try again.'));
        }
      });
    }

    socket.on('room:join', async (request: unknown, ack?: Ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const room = (request as { room?: unknown })?.room;
      if (typeof room !== 'string' || !(await authorizeScope(rooms, principal, room))) {
        return reply({ ok: false, error: { code: 'REALTIME_ROOM_FORBIDDEN', message: 'You may not join this room.' } });
      }
      await socket.join(room);
      fanout.join(socket.id, room);
      reply({ ok: true });
      // Following someone's presence starts with where they are now.
      if (room.startsWith('presence:')) socket.emit('presence:update', { userId: room.slice('presence:'.length), status: await presenceOf(room.slice('presence:'.length)).catch(() => 'offline') });
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
    // The owning module listed these for this user: no second check per room (a user may be in a thousand
    // conversations), but only for prefixes a module owns (never `user:` or `system`).
    for (const auto of options.autoRooms ?? []) {
      for (const room of await auto(principal).catch(() => [] as string[])) {
        const prefix = room.slice(0, Math.max(0, room.indexOf(':')));
        if (rooms.has(prefix) && prefix !== 'user' && !allowed.includes(room)) allowed.push(room);
      }
    }
    await socket.join(allowed);

    const lastSeq = Number(socket.handshake.auth?.lastSeq);
    await fanout.connect(
      {
        id: socket.id,
        sessionId: principal.sessionId,
        send: (event) => socket.emit(eventName(event.type), wireEvent(event)),
        batch: sockets,
        close: end,
        resetRequired: (oldestSeq) => socket.emit('sync:reset', { oldestSeq }),
      },
      allowed,
      Number.isSafeInteger(lastSeq) && lastSeq >= 0 ? lastSeq : undefined,
    );
    socket.emit('realtime:ready', { rooms: allowed });
    void announcePresence(principal.userId);
  }

  // Whatever ended the session (logout, revocation, password change), clients branch on one code; `reason` says which.
  const offSessionEnded = access.onSessionEnded((sessionId, reason) => fanout.endSession(sessionId, SESSION_REVOKED, reason));

  return {
    io,
    /** Disconnects every socket (before the HTTP server closes: open WebSockets would hold it). */
    async close() {
      offSessionEnded();
      io.local.disconnectSockets(true);
      // engine.io's close drops what a connection still holds: the disconnect packets go first.
      writes.releaseAll();
      io.engine.close();
      // The adapter's own connections (stream reader, subscriber) end with it.
      await io.of('/').adapter.close();
      adapterClient?.disconnect();
    },
  };
}

export type RealtimeGateway = ReturnType<typeof createRealtimeGateway>;

/**
 * The Redis connection of the Socket.io adapter. The adapter blocks on stream reads, so it gets one
 * of its own, and XREAD blocks for seconds by design: the shared client's command timeout must not
 * apply. It reconnects by itself; the shared client logs the outage, once.
 */
function socketAdapterClient(redis: Redis): Redis {
  const client = redis.duplicate({ commandTimeout: undefined });
  client.on('error', () => undefined);
  // The adapter drops the promise of its PUBLISHes (presence lookups across nodes): one refused while
  // Redis is away would be an unhandled rejection, which ends the process. Whoever awaits one still sees its failure.
  const publish = client.publish.bind(client) as (...args: unknown[]) => Promise<number>;
  return Object.assign(client, {
    publish: (...args: unknown[]) => {
      const sent = publish(...args);
      sent.catch(() => undefined);
      return sent;
    },
  });
}
