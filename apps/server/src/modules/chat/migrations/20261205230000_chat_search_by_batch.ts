import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../../../core/db/portable.js';

/**
 * SQLite: new messages are indexed for search by the send's transaction, once per batch of sends
 * (chatRepo.indexForSearch), no longer by a trigger per row: FTS5 made each message so indexed a
 * segment of its own (chat.repo.ts says why). The index and the edit and delete triggers stay as they are, so nothing is rebuilt.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) return;
  await sql`drop trigger if exists chat_message_search_insert`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) return;
  await sql`
    create trigger chat_message_search_insert after insert on chat_message
    when new.body is not null and new.deleted_at is null
    begin
      insert into chat_message_search (message_id) values (new.id);
      insert into chat_message_fts (rowid, body) select doc, new.body from chat_message_search where message_id = new.id;
    end`.execute(db);
}
