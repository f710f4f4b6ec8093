import type { Clock } from '../../core/clock.js';
import type { Config } from '../../core/config/config.js';
import type { Database } from '../../core/db/database.js';
import type { EventLog } from '../../core/events/types.js';
import type { CursorCodec } from '../../core/http/pagination.js';
import type { JobContext, JobQueue } from '../../core/jobs/types.js';
import { defineModule, type LyceumModule } from '../../core/module.js';
import { IdentityEvents } from '../identity/index.js';
import { communityRoutes } from './community.routes.js';
import { createCommunityService, type CommunityService, type CourseMembership, type UserLookup } from './community.service.js';
import { createErasureService, ERASE_JOB, type ErasureService } from './erasure.service.js';

export { CommunityEvents } from './community.events.js';
export type * from './community.events.js';
export { CommunityErrors } from './community.errors.js';
export type { CourseMembership } from './community.service.js';

/** What other modules may use of community (through this file only). */
export interface CommunityModule extends LyceumModule {
  service: CommunityService;
  erasure: ErasureService;
}

/** The core services community uses (a subset of app.ts's CoreServices). */
export interface CommunityCore {
  config: Config;
  database: Database;
  clock: Clock;
  events: EventLog;
  cursors: CursorCodec;
  jobs: JobQueue;
}

export interface CommunityDeps {
  identity: { users: UserLookup };
  /** Course membership, for course posts and course feeds; without it, course visibility is refused. */
  learning?: { membership: CourseMembership };
}

/** Posts, comments, reactions, follows and feeds. */
export async function createCommunityModule(core: CommunityCore, deps: CommunityDeps): Promise<CommunityModule> {
  const { database, clock, events, cursors, jobs } = core;
  const erasure = createErasureService({ db: database.db, clock, events });
  const service = createCommunityService({ db: database.db, clock, events, cursors, users: deps.identity.users, courses: deps.learning?.membership });
  const hour = 3_600_000;
  const routes = communityRoutes(service, {
    postRateLimit: { max: core.config.community.postsPerHour, timeWindow: hour },
    commentRateLimit: { max: core.config.community.commentsPerHour, timeWindow: hour },
  });
  return defineModule({
    name: 'community',
    migrations: new URL('./migrations/', import.meta.url),
    service,
    erasure,
    routes: async (app) => routes(app),
    subscribers: [
      {
        // Every node sees the event, and it may be seen again: the key makes one erasure job per account.
        name: 'community.user-deleted',
        types: [IdentityEvents.userDeleted],
        handle: async (event) => {
          const { userId } = event.payload as { userId: string };
          await jobs.enqueue(database.db, ERASE_JOB, { userId }, { uniqueKey: `${ERASE_JOB}:${userId}` });
        },
      },
    ],
    jobs: {
      [ERASE_JOB]: {
        maxAttempts: 10,
        backoffMs: 5000,
        timeoutMs: 30 * 60_000,
        handle: async (job: JobContext<{ userId: string }>) => void (await erasure.eraseUser(job.payload.userId, job.signal)),
      },
    },
  });
}
