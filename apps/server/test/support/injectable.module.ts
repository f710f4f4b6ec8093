import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { ModuleFactory } from '../../src/app.js';
import { defineModule } from '../../src/core/module.js';

/**
 * The injection suite's control: a route built to be injectable (it pastes the query string into
 * SQL), served only by the test server when LYCEUM_TEST_INJECTABLE=1. If sqlmap does not flag this
 * one, a clean result for the real routes would prove nothing. It has a table of its own (one row,
 * named `algebra`), so that the test server can run it without the widgets fixture, whose test
 * authenticator would replace the real one.
 */
export const createInjectableModule: ModuleFactory = (core) =>
  defineModule({
    name: 'injectable',
    migrations: new URL('./injectable-migrations/', import.meta.url),
    routes: async (app) => {
      app.get(
        '/injectable/widgets',
        {
          config: { access: 'public' },
          schema: {
            tags: ['test-only'],
            summary: 'Deliberately injectable list (test control)',
            querystring: Type.Object({ name: Type.String({ maxLength: 500 }), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }),
            response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })), nextCursor: Type.Null() }) },
          },
        },
        async (request) => {
          try {
            const rows = await sql.raw<{ id: string; name: string }>(`select id, name from injectable_item where name = '${request.query.name}'`).execute(core.database.db);
            return { items: rows.rows.map((r) => ({ id: String(r.id), name: String(r.name) })), nextCursor: null };
          } catch {
            return { items: [], nextCursor: null };
          }
        },
      );
    },
  });
