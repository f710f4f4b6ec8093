import type { ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../http/access.js';
import { AppError } from '../http/problem.js';
import { newId } from '../ids.js';
import type { AppInstance } from '../module.js';
import type { Fanout } from './fanout.js';
import { wireEvent, type EventNamer } from './gateway.js';
import { authorizeScope, type RoomAuthorizers } from './rooms.js';

const HEARTBEAT_MS = 15_000;

const frame = (fields: { id?: number; event: string; data: unknown }) =>
  `${fields.id === undefined ? '' : `id: ${fields.id}\n`}event: ${fields.event}\ndata: ${JSON.stringify(fields.data)}\n\n`;

/**
 * `GET /api/v1/events/stream`: the persisted events a caller may see, as Server-Sent Events, for
 * clients that cannot use WebSocket. Each event's `id` is its log seq, so a reconnecting
 * EventSource resumes with `Last-Event-ID` and gets what it missed, once, in order.
 */
export function createEventStream({ fanout, rooms, eventName }: { fanout: Fanout; rooms: RoomAuthorizers; eventName: EventNamer }) {
  const open = new Set<ServerResponse>();

  async function register(app: AppInstance) {
    app.get(
      '/events/stream',
      {
        config: { access: 'authenticated' },
        schema: {
          tags: ['realtime'],
          summary: 'Stream the events you may see (Server-Sent Events), resumable with Last-Event-ID',
          querystring: Type.Object(
            {
              rooms: Type.Optional(Type.String({ maxLength: 2000, description: 'Comma-separated extra scopes, e.g. `conversation:cnv_…`.' })),
              lastEventId: Type.Optional(Type.Integer({ minimum: 0, description: 'Resume after this seq (for clients that cannot set Last-Event-ID).' })),
            },
            { additionalProperties: false },
          ),
          headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }),
          response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: Type.String() } } } },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        const scopes = [`user:${principal.userId}`];
        for (const room of (request.query.rooms ?? '').split(',').map((r) => r.trim()).filter(Boolean).slice(0, 100)) {
          if (!(await authorizeScope(rooms, principal, room))) throw new AppError(403, 'REALTIME_ROOM_FORBIDDEN', `You may not follow ${room}.`);
          if (!scopes.includes(room)) scopes.push(room);
        }
        const header = request.headers['last-event-id'];
        const lastSeq = header !== undefined ? Number(header) : request.query.lastEventId;

        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write('retry: 3000\n\n');
        open.add(res);
        const client = {
          id: newId('sse'),
          sessionId: principal.sessionId,
          send: (event: Parameters<Parameters<Fanout['connect']>[0]['send']>[0]) => res.write(frame({ id: event.seq, event: eventName(event.type), data: wireEvent(event) })),
          close: (code: string, reason?: string) => {
            res.end(frame({ event: 'session:ended', data: { code, ...(reason && reason !== code ? { reason } : {}) } }));
          },
          resetRequired: (oldestSeq: number | null) => res.write(frame({ event: 'sync:reset', data: { oldestSeq } })),
        };
        const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
        heartbeat.unref();
        request.raw.on('close', () => {
          clearInterval(heartbeat);
          open.delete(res);
          fanout.disconnect(client.id);
        });
        await fanout.connect(client, scopes, lastSeq);
      },
    );
  }

  return {
    register,
    /** Ends every open stream (shutdown): EventSource reconnects to another node by itself. */
    closeAll() {
      for (const res of open) res.end();
      open.clear();
    },
  };
}
