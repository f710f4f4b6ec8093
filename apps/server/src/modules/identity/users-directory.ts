import type { Db, Tx } from '../../core/db/database.js';
import { inCompiledParts } from '../../core/db/parts.js';
import { compileReadOn, perCount } from '../../core/db/prepared-read.js';
import { normaliseEmail } from './identity.service.js';

/** What other modules may know of an account: never its email, hashes or sessions. */
export interface PublicUser {
  id: string;
  displayName: string;
  roles: string[];
  active: boolean;
  /** The user's IANA time zone, or null (UTC). For the user's own days and hours; not to be shown to others. */
  timeZone: string | null;
}

export interface UsersDirectory {
  /**
   * The accounts among `ids` that exist (deleted ones are absent), by id. Inside a transaction, pass
   * it as `within`: SQLite has one connection, so a read outside the open transaction would wait for it forever.
   */
  lookup(ids: readonly string[], within?: Tx): Promise<Map<string, PublicUser>>;
  /** The id of the active account with this email, or null. Callers must not reveal the answer to a third party. */
  idByEmail(email: string): Promise<string | null>;
}

export function createUsersDirectory(db: Db): UsersDirectory {
  // Compiled once per number of ids: a submission looks its student up for the streak day's zone.
  const byIds = perCount((count) =>
    compileReadOn(
      db,
      (q, ...ids: string[]) => q.selectFrom('identity_user').select(['id', 'display_name', 'roles', 'status', 'time_zone']).where('id', 'in', ids).where('deleted_at', 'is', null),
      count,
    ),
  );
  return {
    async lookup(ids, within) {
      const unique = [...new Set(ids)];
      const result = new Map<string, PublicUser>();
      for (const part of inCompiledParts(unique)) {
        const rows = await byIds(part.length)(within ?? db, ...part);
        for (const r of rows) result.set(r.id, { id: r.id, displayName: r.display_name, roles: r.roles ? r.roles.split(',') : [], active: r.status === 'active', timeZone: r.time_zone });
      }
      return result;
    },
    async idByEmail(email) {
      const row = await db
        .selectFrom('identity_user')
        .select('id')
        .where('email', '=', normaliseEmail(email))
        .where('deleted_at', 'is', null)
        .where('status', '=', 'active')
        .executeTakeFirst();
      return row?.id ?? null;
    },
  };
}
