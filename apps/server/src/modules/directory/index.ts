import type { Clock } from '../../core/clock.js';
import type { Database } from '../../core/db/database.js';
import type { EventLog } from '../../core/events/types.js';
import type { CursorCodec } from '../../core/http/pagination.js';
import type { JobQueue } from '../../core/jobs/types.js';
import { defineModule, type LyceumModule } from '../../core/module.js';
import { IdentityEvents, type UsersDirectory } from '../identity/index.js';
import { createDirectoryImports, IMPORT_JOB, type DirectoryImports } from './directory.import.js';
import { createDuplicateReview, type DuplicateReview } from './directory.review.js';
import { directoryRoutes } from './directory.routes.js';
import { createDirectoryService, type DirectoryService } from './directory.service.js';
import { duplicateRoutes } from './duplicates.routes.js';
import { importRoutes } from './imports.routes.js';

export { DirectoryEvents } from './directory.events.js';

/** Deletes (or unlinks) the profile of a deleted account; one job per `identity.user.deleted` event. */
export const FORGET_USER_JOB = 'directory.forget-user';
export { DirectoryErrors } from './directory.errors.js';
export type { DirectoryService } from './directory.service.js';

/** The core services the directory uses (a subset of app.ts's CoreServices). */
export interface DirectoryCore {
  database: Database;
  clock: Clock;
  events: EventLog;
  cursors: CursorCodec;
  jobs: JobQueue;
}

export interface DirectoryModule extends LyceumModule {
  service: DirectoryService;
  imports: DirectoryImports;
  review: DuplicateReview;
}

/** The alumni directory: profiles with per-field visibility, faceted full-text search, exports. */
export async function createDirectoryModule(core: DirectoryCore, deps: { identity: { users: UsersDirectory } }): Promise<DirectoryModule> {
  const service = createDirectoryService({
    db: core.database.db,
    dialect: core.database.dialect.name,
    clock: core.clock,
    events: core.events,
    cursors: core.cursors,
    users: deps.identity.users,
  });
  const imports = createDirectoryImports({
    db: core.database.db,
    dialect: core.database.dialect.name,
    clock: core.clock,
    events: core.events,
    jobs: core.jobs,
    cursors: core.cursors,
  });
  const review = createDuplicateReview({ db: core.database.db, dialect: core.database.dialect.name, clock: core.clock, events: core.events });
  const profileApi = directoryRoutes(service);
  const importApi = importRoutes(imports);
  const reviewApi = duplicateRoutes(review);
  return defineModule({
    name: 'directory',
    migrations: new URL('./migrations/', import.meta.url),
    service,
    imports,
    review,
    routes: async (app) => {
      await profileApi(app);
      await importApi(app);
      await reviewApi(app);
    },
    // In the background: a node serves while it loads (the searches meanwhile wait for it or count in SQL); a failure is retried by the first search.
    start: async () => void service.warmFacetIndex().catch(() => undefined),
    subscribers: [
      {
        // Every node sees the event; the unique key makes one job of it, retried with backoff.
        name: 'directory.user-deleted',
        types: [IdentityEvents.userDeleted],
        handle: async (event) => {
          const { userId } = (event.payload ?? {}) as { userId?: unknown };
          if (typeof userId !== 'string') return;
          await core.jobs.enqueue(core.database.db, FORGET_USER_JOB, { userId }, { uniqueKey: `${FORGET_USER_JOB}:${event.id}` });
        },
      },
    ],
    jobs: {
      [IMPORT_JOB]: { handle: imports.run, maxAttempts: 5, timeoutMs: 30 * 60_000 },
      [FORGET_USER_JOB]: { handle: (job: { payload: { userId: string } }) => service.forgetUser(job.payload.userId), maxAttempts: 10, backoffMs: 5000 },
    },
  });
}
