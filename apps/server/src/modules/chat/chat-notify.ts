import type { Tx } from '../../core/db/database.js';
import { afterCommit } from '../../core/db/transaction.js';
import type { JobQueue } from '../../core/jobs/types.js';

export const NOTIFY_JOB = 'chat.message.notify';

/** A notify job's payload: the conversation, and with no delay, the message it is about (else the newest). */
export interface NotifyJob {
  conversationId: string;
  messageId?: string;
}

/** A message near a window's end may commit a little after it: the window's job waits this long more. */
const COMMIT_GRACE_MS = 2000;
/** Windows this node remembers having scheduled; past this many it forgets them all (the queue still dedupes). */
const MAX_REMEMBERED = 10_000;

/** Where a conversation's windows start within `delayMs`: spread, so that not every conversation's job is due at once. */
function phaseOf(conversationId: string, delayMs: number): number {
  let hash = 0;
  for (let i = 0; i < conversationId.length; i++) hash = (hash * 31 + conversationId.charCodeAt(i)) >>> 0;
  return hash % delayMs;
}

/** A new message that may call for a notification: its conversation, its id, and when it was sent. */
export interface NewMessage {
  conversationId: string;
  messageId: string;
  at: Date;
}

/**
 * Schedules the jobs that ask for notifications of new messages (a send batch's, in one statement).
 * Messages of one conversation within one window of `delayMs` share one job (its unique key), which
 * runs when the window has passed and notifies the members who still have not read them; with no
 * delay, every message has its own job. A node remembers the windows it scheduled, so that a burst
 * of messages costs one job, not one each.
 */
export function notifyScheduler(jobs: JobQueue, delayMs: number) {
  const scheduled = new Map<string, number>();
  return async function schedule(tx: Tx, messages: readonly NewMessage[]): Promise<void> {
    if (delayMs === 0) {
      await jobs.enqueueMany<NotifyJob>(tx, messages.map(({ conversationId, messageId }) => ({ name: NOTIFY_JOB, payload: { conversationId, messageId } })));
      return;
    }
    const due = new Map<string, { conversationId: string; window: number; runAt: Date }>();
    for (const { conversationId, at } of messages) {
      const phase = phaseOf(conversationId, delayMs);
      const window = Math.floor((at.getTime() - phase) / delayMs);
      if (scheduled.get(conversationId) === window) continue;
      due.set(`${NOTIFY_JOB}:${conversationId}:${window}`, { conversationId, window, runAt: new Date((window + 1) * delayMs + phase + COMMIT_GRACE_MS) });
    }
    if (!due.size) return;
    await jobs.enqueueMany<NotifyJob>(tx, [...due].map(([uniqueKey, { conversationId, runAt }]) => ({ name: NOTIFY_JOB, payload: { conversationId }, options: { uniqueKey, runAt } })));
    afterCommit(tx, () => {
      if (scheduled.size >= MAX_REMEMBERED) scheduled.clear();
      for (const { conversationId, window } of due.values()) scheduled.set(conversationId, window);
    });
  };
}
