import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db/database.js';
import { withTransaction } from '../../core/db/transaction.js';
import type { EventLog } from '../../core/events/types.js';
import type { Principal } from '../../core/http/access.js';
import { versionMismatch } from '../../core/http/etag.js';
import { AppError } from '../../core/http/problem.js';
import { newId } from '../../core/ids.js';
import { DirectoryErrors } from './directory.errors.js';
import { DirectoryEvents, type ProfileChangedPayload, type ProfileDeletedPayload } from './directory.events.js';
import { directoryRepo, type DialectName } from './directory.repo.js';
import { VISIBLE_FIELDS, type MergeRequest, type ProfileView, type Visibility } from './directory.schemas.js';
import { dataOf, rowOf, scopesOf, viewOf, type ProfileData } from './directory.service.js';
import type { DuplicateRow, ProfileRow } from './directory.tables.js';

type Choices = NonNullable<MergeRequest['choices']>;
const STRICTNESS: Record<Visibility, number> = { public: 0, members: 1, hidden: 2 };
const isEmpty = (value: unknown) => value === null || (Array.isArray(value) && value.length === 0);

/**
 * The kept profile's data with what it takes from the other: a field the admin chose, or one the
 * kept profile lacks. A taken value keeps the stricter of the two visibilities, so a merge never
 * shows a value more widely than its owner allowed.
 */
export function mergeData(kept: ProfileData, other: ProfileData, choices: Choices): { data: ProfileData; taken: string[] } {
  const data: ProfileData = { ...kept, visibility: { ...kept.visibility } };
  const taken: string[] = [];
  for (const field of ['name', ...VISIBLE_FIELDS] as const) {
    const choice = choices[field];
    if (choice === 'keep' || (choice === undefined && !(isEmpty(kept[field]) && !isEmpty(other[field])))) continue;
    (data as unknown as Record<string, unknown>)[field] = other[field];
    taken.push(field);
    if (field !== 'name') {
      const [mine, theirs] = [kept.visibility[field], other.visibility[field]];
      data.visibility[field] = STRICTNESS[theirs] > STRICTNESS[mine] ? theirs : mine;
    }
  }
  return { data, taken };
}

export interface DuplicateReviewDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  events: EventLog;
}

/** Admins' decisions on likely duplicates: dismiss a pair for good, or merge it into one profile. */
export function createDuplicateReview(deps: DuplicateReviewDeps) {
  const { db, dialect, clock, events } = deps;
  const notFound = () => new AppError(404, DirectoryErrors.DIRECTORY_DUPLICATE_NOT_FOUND, 'No such pending duplicate pair.');

  async function pending(r: ReturnType<typeof directoryRepo>, id: string): Promise<DuplicateRow> {
    const pair = await r.findDuplicate(id);
    if (!pair || pair.dismissed_at) throw notFound();
    return pair;
  }

  return {
    /** The pair stays stored, dismissed: imports never flag it again. */
    async dismiss(principal: Principal, id: string): Promise<void> {
      await withTransaction(db, async (tx) => {
        const r = directoryRepo(tx, dialect);
        const pair = await pending(r, id);
        const now = clock.now().toISOString();
        await r.dismissDuplicate(id, now);
        await r.insertReviewAudit({ id: newId('drv'), actor_id: principal.userId, action: 'dismiss', duplicate_id: id, kept_profile: pair.profile_a, removed_profile: null, details: JSON.stringify({ pair: [pair.profile_a, pair.profile_b] }), created_at: now });
      });
    },

    /**
     * Merges the pair into `keep`, in one transaction: both versions are checked (412 when either
     * changed since the admin looked), the other profile is deleted first (freeing its account link
     * and externalId), then the kept one takes its link, externalId and the chosen fields.
     */
    async merge(principal: Principal, id: string, request: MergeRequest): Promise<ProfileView> {
      const choices = request.choices ?? {};
      const row = await withTransaction(db, async (tx) => {
        const r = directoryRepo(tx, dialect);
        const pair = await pending(r, id);
        if (request.keep !== pair.profile_a && request.keep !== pair.profile_b) {
          throw new AppError(422, 'VALIDATION_FAILED', '`keep` must be one of the two profiles of the pair.', { errors: [{ path: '/body/keep', message: 'not one of the pair' }] });
        }
        const otherId = request.keep === pair.profile_a ? pair.profile_b : pair.profile_a;
        const kept = await r.findById(request.keep);
        const other = await r.findById(otherId);
        if (!kept || !other) throw notFound();
        if (kept.version !== request.keepVersion) throw versionMismatch(kept.version);
        if (other.version !== request.otherVersion) throw versionMismatch(other.version);
        if (kept.user_id && other.user_id) {
          throw new AppError(409, DirectoryErrors.DIRECTORY_MERGE_CONFLICT, 'Both profiles belong to accounts; delete or unlink one of them first.');
        }
        const { data, taken } = mergeData(dataOf(kept), dataOf(other), choices);
        const userId = kept.user_id ?? other.user_id;
        const externalId = choices.externalId === 'other' ? (other.external_id ?? kept.external_id) : choices.externalId === 'keep' ? kept.external_id : (kept.external_id ?? other.external_id);
        const now = clock.now().toISOString();
        await r.delete(other);
        const merged: ProfileRow = rowOf({ ...kept, user_id: userId, external_id: externalId, version: kept.version + 1, updated_at: now }, data);
        if (!(await r.update(merged, kept, data.skills))) throw versionMismatch(kept.version);
        const fields = [...taken, ...(userId !== kept.user_id ? ['userId'] : []), ...(externalId !== kept.external_id ? ['externalId'] : [])].sort();
        await r.insertReviewAudit({
          id: newId('drv'), actor_id: principal.userId, action: 'merge', duplicate_id: id, kept_profile: kept.id, removed_profile: other.id,
          details: JSON.stringify({ fields, otherExternalId: other.external_id, otherUserId: other.user_id }), created_at: now,
        });
        await events.append<ProfileDeletedPayload>(tx, { type: DirectoryEvents.profileDeleted, scopes: scopesOf(other), payload: { profileId: other.id, userId: other.user_id }, actorId: principal.userId });
        await events.append<ProfileChangedPayload>(tx, {
          type: DirectoryEvents.profileUpdated,
          scopes: scopesOf(merged),
          payload: { profileId: merged.id, userId: merged.user_id, version: merged.version, fields },
          actorId: principal.userId,
        });
        return merged;
      });
      return viewOf(row, 2, { full: true });
    },
  };
}

export type DuplicateReview = ReturnType<typeof createDuplicateReview>;
