import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../../../core/db/portable.js';

/**
 * Full-text search over the current text of live messages.
 * PostgreSQL: a GIN index over to_tsvector('simple', body) (a deleted message's body is null, so it
 * has no entry; an edit re-indexes it).
 * SQLite: a contentless FTS5 table kept in step by triggers, in the writing transaction whatever
 * the write path. FTS5 rows need an integer key that never changes, and chat_message's implicit
 * rowid may be renumbered by VACUUM, so `chat_message_search` hands out one per indexed message.
 * Both sides fold case and keep accents (unicode61 `remove_diacritics 0`, like PostgreSQL's 'simple'),
 * so a query matches the same messages on either database.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`create index chat_message_search on chat_message using gin (to_tsvector('simple', body))`.execute(db);
    return;
  }
  await sql`create table chat_message_search (doc integer primary key autoincrement, message_id text not null unique)`.execute(db);
  await sql`create virtual table chat_message_fts using fts5(body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0')`.execute(db);
  await sql`
    create trigger chat_message_search_insert after insert on chat_message
    when new.body is not null and new.deleted_at is null
    begin
      insert into chat_message_search (message_id) values (new.id);
      insert into chat_message_fts (rowid, body) select doc, new.body from chat_message_search where message_id = new.id;
    end`.execute(db);
  await sql`
    create trigger chat_message_search_update after update of body, deleted_at on chat_message
    begin
      delete from chat_message_fts where rowid = (select doc from chat_message_search where message_id = old.id);
      delete from chat_message_search where message_id = old.id;
      insert into chat_message_search (message_id) select new.id where new.body is not null and new.deleted_at is null;
      insert into chat_message_fts (rowid, body) select doc, new.body from chat_message_search where message_id = new.id;
    end`.execute(db);
  await sql`
    create trigger chat_message_search_delete after delete on chat_message
    begin
      delete from chat_message_fts where rowid = (select doc from chat_message_search where message_id = old.id);
      delete from chat_message_search where message_id = old.id;
    end`.execute(db);
  // Messages written before this migration.
  await sql`insert into chat_message_search (message_id) select id from chat_message where body is not null and deleted_at is null order by id`.execute(db);
  await sql`insert into chat_message_fts (rowid, body) select s.doc, m.body from chat_message_search s join chat_message m on m.id = s.message_id`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`drop index if exists chat_message_search`.execute(db);
    return;
  }
  for (const trigger of ['chat_message_search_insert', 'chat_message_search_update', 'chat_message_search_delete']) await sql`drop trigger if exists ${sql.id(trigger)}`.execute(db);
  await sql`drop table if exists chat_message_fts`.execute(db);
  await sql`drop table if exists chat_message_search`.execute(db);
}
