import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../../src/app.js';
import { isoNow } from '../../../src/core/clock.js';
import { DbError } from '../../../src/core/db/errors.js';
import { withTransaction } from '../../../src/core/db/transaction.js';
import { expectedVersion, setEtag, versionMismatch } from '../../../src/core/http/etag.js';
import { Page, PageQuery, toPage } from '../../../src/core/http/pagination.js';
import { AppError, CoreErrors } from '../../../src/core/http/problem.js';
import { requirePrincipal, type Principal } from '../../../src/core/http/access.js';
import { newId } from '../../../src/core/ids.js';
import { defineModule } from '../../../src/core/module.js';

/**
 * A small module that exists only in tests and benchmarks: it exercises every core HTTP
 * convention (validation, access rules, ETags, idempotency, pagination, events) the way a real
 * module would, without depending on one.
 *
 * Test credentials: `Authorization: Bearer test:<userId>[:<permission>,<permission>]`.
 */
export const testAuthenticator = async (request: { headers: { authorization?: string } }): Promise<Principal | null> => {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer test:([a-z0-9_]+)(?::([a-z:,]*))?$/.exec(header);
  if (!match) throw new AppError(401, CoreErrors.AUTH_INVALID_TOKEN, 'Invalid test token.');
  return { kind: 'user', userId: match[1]!, sessionId: `ses_${match[1]!}`, roles: [], permissions: new Set((match[2] ?? '').split(',').filter(Boolean)) };
};

const Widget = Type.Object(
  { id: Type.String(), ownerId: Type.String(), name: Type.String(), size: Type.Integer(), version: Type.Integer(), createdAt: Type.String() },
  { $id: 'Widget', additionalProperties: false },
);
const WidgetInput = Type.Object({ name: Type.String({ minLength: 1, maxLength: 50 }), size: Type.Integer({ minimum: 0, maximum: 1000 }) }, { additionalProperties: false });
const WidgetPatch = Type.Partial(WidgetInput, { additionalProperties: false, minProperties: 1 });

interface Row {
  id: string;
  owner_id: string;
  name: string;
  size: number;
  version: number;
  created_at: string;
}
const view = (r: Row) => ({ id: r.id, ownerId: r.owner_id, name: r.name, size: r.size, version: r.version, createdAt: r.created_at });

export const createWidgetsModule: ModuleFactory = (core) => {
  const { db } = core.database;
  core.access.setAuthenticator(testAuthenticator);
  const byId = core.database.prepareRead((db, id: string) => db.selectFrom('widgets_widget').selectAll().where('id', '=', id));
  const find = async (id: string) => (await byId(id))[0] as Row | undefined;
  const notFound = () => new AppError(404, 'WIDGETS_NOT_FOUND', 'No such widget.');
  // What this node's event subscriber has seen, so that a test can watch dispatch across nodes.
  const received: Array<{ seq: number; widgetId: string }> = [];

  return defineModule({
    name: 'widgets',
    migrations: new URL('./migrations/', import.meta.url),
    // A command that fails as asked, so that tests see how the gateway acknowledges failures.
    socketCommands: {
      'widgets:fail': {
        schema: Type.Object({ as: Type.Union([Type.Literal('db-unavailable'), Type.Literal('bug')]) }),
        handle: async (_principal, { as }: { as: 'db-unavailable' | 'bug' }) => {
          throw as === 'bug' ? new Error('a bug') : new DbError('unavailable', 'connection timeout');
        },
      },
    },
    // Owners may follow their widget's events in realtime.
    rooms: { widget: async (principal, id) => (await find(id))?.owner_id === principal.userId },
    subscribers: [
      {
        name: 'widgets.recorder',
        types: ['widgets.widget.created'],
        handle: (event) => void received.push({ seq: event.seq, widgetId: (event.payload as { id: string }).id }),
      },
    ],
    routes: async (app) => {
      app.addSchema(Widget);
      app.post(
        '/widgets',
        { config: { access: 'authenticated' }, schema: { tags: ['widgets'], summary: 'Create a widget', body: WidgetInput, response: { 201: Type.Ref(Widget) } } },
        async (request, reply) => {
          const { userId } = requirePrincipal(request);
          const row: Row = { id: newId('wdg'), owner_id: userId, name: request.body.name, size: request.body.size, version: 1, created_at: isoNow(core.clock) };
          await withTransaction(db, async (tx) => {
            await tx.insertInto('widgets_widget').values(row).execute();
            await core.events.append(tx, { type: 'widgets.widget.created', scopes: [`user:${userId}`, `widget:${row.id}`], payload: { id: row.id }, actorId: userId });
          });
          setEtag(reply, row.version);
          return reply.code(201).header('location', `/api/v1/widgets/${row.id}`).send(view(row));
        },
      );
      app.get(
        '/widgets/:id',
        { config: { access: 'public' }, schema: { tags: ['widgets'], summary: 'Read a widget', params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 200: Type.Ref(Widget) } } },
        async (request, reply) => {
          const row = await find(request.params.id);
          if (!row) throw notFound();
          setEtag(reply, row.version);
          return view(row);
        },
      );
      app.patch(
        '/widgets/:id',
        {
          config: { access: 'authenticated' },
          schema: { tags: ['widgets'], summary: 'Update a widget', params: Type.Object({ id: Type.String({ maxLength: 64 }) }), body: WidgetPatch, response: { 200: Type.Ref(Widget) } },
        },
        async (request, reply) => {
          const { userId } = requirePrincipal(request);
          const expected = expectedVersion(request);
          const row = await withTransaction(db, async (tx) => {
            const current = (await tx.selectFrom('widgets_widget').selectAll().where('id', '=', request.params.id).executeTakeFirst()) as Row | undefined;
            if (!current || current.owner_id !== userId) throw notFound();
            if (expected !== undefined && expected !== current.version) throw versionMismatch(current.version);
            const next = { ...current, ...request.body, version: current.version + 1 };
            await tx.updateTable('widgets_widget').set({ name: next.name, size: next.size, version: next.version }).where('id', '=', current.id).execute();
            await core.events.append(tx, { type: 'widgets.widget.updated', scopes: [`widget:${current.id}`], payload: { id: current.id, version: next.version }, actorId: userId });
            return next;
          });
          setEtag(reply, row.version);
          return view(row);
        },
      );
      app.get(
        '/widgets',
        { config: { access: 'public' }, schema: { tags: ['widgets'], summary: 'List widgets', querystring: PageQuery, response: { 200: Page(Type.Ref(Widget)) } } },
        async (request) => {
          const limit = request.query.limit ?? 20;
          let query = db.selectFrom('widgets_widget').selectAll().orderBy('id').limit(limit + 1);
          if (request.query.cursor) query = query.where('id', '>', String(core.cursors.decode(request.query.cursor)[0]));
          return toPage((await query.execute()) as Row[], limit, core.cursors, (r) => [r.id], view);
        },
      );
      app.get(
        '/widgets-admin/count',
        { config: { access: { permission: 'widgets:admin' } }, schema: { tags: ['widgets'], summary: 'Count widgets (admin)', response: { 200: Type.Object({ count: Type.Integer() }) } } },
        async () => {
          const row = await db.selectFrom('widgets_widget').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
          return { count: Number(row.count) };
        },
      );
      app.get(
        '/widgets-slow',
        {
          config: { access: 'public' },
          schema: { tags: ['widgets'], summary: 'Answer after a delay', querystring: Type.Object({ ms: Type.Integer({ minimum: 0, maximum: 10_000 }) }), response: { 200: Type.Object({ waited: Type.Integer() }) } },
        },
        async (request) => {
          request.log.warn('slow request started');
          await new Promise((resolve) => setTimeout(resolve, request.query.ms));
          return { waited: request.query.ms };
        },
      );
      app.get(
        '/widgets-received',
        {
          config: { access: 'public' },
          schema: { tags: ['widgets'], summary: 'Widget events this node received', response: { 200: Type.Array(Type.Object({ seq: Type.Integer(), widgetId: Type.String() })) } },
        },
        async () => received,
      );
      app.get('/widgets-boom', { config: { access: 'public' }, schema: { tags: ['widgets'], summary: 'Fail unexpectedly', response: { 200: Type.Object({}) } } }, async () => {
        throw new Error('secret internal detail');
      });
    },
  });
};
