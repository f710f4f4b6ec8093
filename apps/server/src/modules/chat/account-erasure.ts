import { sql, type Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog, EventSubscriber } from '../../core/events/types.js';
import type { JobContext, JobDefinition, JobQueue } from '../../core/jobs/types.js';
import { ChatEvents, type MessageDeletedPayload } from './chat.events.js';
import type { ChatTables } from './chat.tables.js';

export const CHAT_ERASE_JOB = 'chat.user.erase';

export interface ChatErasureDeps {
  db: Db;
  clock: Clock;
  events: EventLog;
  jobs: JobQueue;
  /** Messages per transaction (default 500). */
  batchSize?: number;
}

/**
 * What chat does when an account is deleted (`identity.user.deleted`; docs/community.md, "Deleted accounts"): every message
 * the person sent becomes a tombstone in place (text, mentions, attachments and edit history gone,
 * seq kept, `chat.message.deleted` told to the conversation), and their reactions, reports and
 * blocks go. Memberships stay, so a direct conversation still has its other side: an account the
 * users directory no longer knows, shown with a null display name. One job per account, in short
 * transactions; running it again or on two nodes at once finds nothing left to do.
 */
export function chatAccountErasure(deps: ChatErasureDeps) {
  const { clock, events, jobs } = deps;
  const db = deps.db as unknown as Kysely<ChatTables>;
  const limit = deps.batchSize ?? 500;

  async function eraseUser(userId: string, signal?: AbortSignal): Promise<{ messages: number }> {
    let messages = 0;
    for (;;) {
      signal?.throwIfAborted();
      const batch = await db.selectFrom('chat_message').select('id').where('sender_id', '=', userId).where('deleted_at', 'is', null).orderBy('id').limit(limit).execute();
      if (!batch.length) break;
      messages += await withTransaction(deps.db, async (tx) => {
        const t = tx as unknown as Kysely<ChatTables>;
        const at = clock.now().toISOString();
        // `deleted_at is null` again: only the run that really tombstones a message announces it.
        const gone = await t
          .updateTable('chat_message')
          .set({ body: null, mentions: '[]', attachments: '[]', deleted_at: at, deleted_by: userId, version: sql<number>`version + 1` })
          .where('id', 'in', batch.map((m) => m.id))
          .where('deleted_at', 'is', null)
          .returning(['id', 'conversation_id', 'seq'])
          .execute();
        for (const m of gone) {
          await events.append<MessageDeletedPayload>(tx, {
            type: ChatEvents.messageDeleted,
            scopes: [`conversation:${m.conversation_id}`],
            payload: { conversationId: m.conversation_id, messageId: m.id, seq: Number(m.seq), deletedBy: userId },
          });
        }
        return gone.length;
      });
    }
    // Earlier texts of their messages (also of messages they had deleted themselves), then what hangs on the person.
    const theirs = db.selectFrom('chat_message').select('id').where('sender_id', '=', userId);
    for (;;) {
      signal?.throwIfAborted();
      const edits = await db.selectFrom('chat_message_edit').select('id').where('message_id', 'in', theirs).limit(limit).execute();
      if (!edits.length) break;
      await db.deleteFrom('chat_message_edit').where('id', 'in', edits.map((e) => e.id)).execute();
    }
    await db.deleteFrom('chat_reaction').where((eb) => eb.or([eb('user_id', '=', userId), eb('message_id', 'in', theirs)])).execute();
    await db.deleteFrom('chat_report').where((eb) => eb.or([eb('reporter_id', '=', userId), eb('message_id', 'in', theirs)])).execute();
    await db.deleteFrom('chat_block').where((eb) => eb.or([eb('blocker_id', '=', userId), eb('blocked_id', '=', userId)])).execute();
    return { messages };
  }

  const subscriber: EventSubscriber = {
    // Every node sees the event, and may see it again: the key makes one job per account.
    name: 'chat.user-deleted',
    types: ['identity.user.deleted'],
    handle: async (event) => {
      const { userId } = event.payload as { userId: string };
      await jobs.enqueue(deps.db, CHAT_ERASE_JOB, { userId }, { uniqueKey: `${CHAT_ERASE_JOB}:${userId}` });
    },
  };
  const job: JobDefinition<{ userId: string }> = {
    maxAttempts: 10,
    backoffMs: 5000,
    timeoutMs: 30 * 60_000,
    handle: async (run: JobContext<{ userId: string }>) => void (await eraseUser(run.payload.userId, run.signal)),
  };
  return { eraseUser, subscriber, jobs: { [CHAT_ERASE_JOB]: job } };
}
