import type { EventLog } from '../../core/events/types.js';
import type { Principal } from '../../core/http/access.js';
import type { CursorCodec } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import { forbidden } from './learning.errors.js';
import type { Statement, StatementsQuery } from './xapi.schemas.js';
import { STATEMENT_EVENTS, toStatement } from './xapi.js';

/** Who reads every learner's statements (administrators through their role; an API key may carry only this). */
export const STATEMENTS_PERMISSION = 'learning:statements';
/** Events read per round trip while looking for statements. */
const SCAN_PAGE = 500;
/** At most this many events are scanned per call, so a call on a log of unrelated events stays short. */
const SCAN_MAX = 5000;

/**
 * Learning events of the log as xAPI statements, keyset by the log's seq. The cursor is the seq
 * reached (signed, opaque); a poller stores `nextCursor` and calls again with `since`.
 */
export function createStatementService(ctx: { events: EventLog; cursors: CursorCodec; publicUrl: string }) {
  const { events, cursors, publicUrl } = ctx;

  function position(since: string | undefined): number {
    if (!since) return 0;
    const [kind, seq] = cursors.decode(since);
    if (kind !== 'xapi' || typeof seq !== 'number') throw new AppError(400, 'PAGINATION_INVALID_CURSOR', 'The cursor is not one this server issued for this list.');
    return seq;
  }

  return {
    async list(principal: Principal, query: StatementsQuery): Promise<{ items: Statement[]; nextCursor: string }> {
      const everyone = principal.permissions.has(STATEMENTS_PERMISSION);
      if (!everyone && !principal.permissions.has('course:enroll')) throw forbidden(`Requires the ${STATEMENTS_PERMISSION} or course:enroll permission.`);
      const limit = query.limit ?? 20;
      let cursor = position(query.since);
      const items: Statement[] = [];
      // A learner reads the events of their own scope, and of those only the ones about themselves.
      const scopes = everyone ? undefined : [`user:${principal.userId}`];
      for (let scanned = 0; items.length < limit && scanned < SCAN_MAX; ) {
        const page = await events.readSince(cursor, { scopes, limit: SCAN_PAGE });
        for (const event of page) {
          cursor = event.seq;
          scanned++;
          if (!STATEMENT_EVENTS.includes(event.type)) continue;
          const statement = toStatement(event, publicUrl);
          if (!statement || (!everyone && statement.actor.account.name !== principal.userId)) continue;
          items.push(statement);
          if (items.length === limit) break;
        }
        if (page.length < SCAN_PAGE) break;
      }
      return { items, nextCursor: cursors.encode(['xapi', cursor]) };
    },
  };
}

export type StatementService = ReturnType<typeof createStatementService>;
