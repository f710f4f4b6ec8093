import type { Db } from '../../core/db/database.js';
import { normaliseEmail } from './identity.service.js';

/** What other modules may know of an account: never its email, hashes or sessions. */
export interface PublicUser {
  id: string;
  displayName: string;
  roles: string[];
  active: boolean;
}

export interface UsersDirectory {
  /** The accounts among `ids` that exist (deleted ones are absent), by id. */
  lookup(ids: readonly string[]): Promise<Map<string, PublicUser>>;
  /** The id of the active account with this email, or null. Callers must not reveal the answer to a third party. */
  idByEmail(email: string): Promise<string | null>;
}

export function createUsersDirectory(db: Db): UsersDirectory {
  return {
    async lookup(ids) {
      const unique = [...new Set(ids)];
      const result = new Map<string, PublicUser>();
      // Chunks keep the bound-parameter count under SQLite's and PostgreSQL's limits.
      for (let i = 0; i < unique.length; i += 500) {
        const rows = await db
          .selectFrom('identity_user')
          .select(['id', 'display_name', 'roles', 'status'])
          .where('id', 'in', unique.slice(i, i + 500))
          .where('deleted_at', 'is', null)
          .execute();
        for (const r of rows) result.set(r.id, { id: r.id, displayName: r.display_name, roles: r.roles ? r.roles.split(',') : [], active: r.status === 'active' });
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
