import type { Clock } from '../../core/clock.js';
import type { Config } from '../../core/config/config.js';
import type { Database } from '../../core/db/database.js';
import type { EventLog } from '../../core/events/types.js';
import type { CursorCodec } from '../../core/http/pagination.js';
import { defineModule, type LyceumModule } from '../../core/module.js';
import { communityRoutes } from './community.routes.js';
import { createCommunityService, type CommunityService, type CourseMembership, type UserLookup } from './community.service.js';

export { CommunityEvents } from './community.events.js';
export type * from './community.events.js';
export { CommunityErrors } from './community.errors.js';
export type { CourseMembership } from './community.service.js';

/** What other modules may use of community (through this file only). */
export interface CommunityModule extends LyceumModule {
  service: CommunityService;
}

/** The core services community uses (a subset of app.ts's CoreServices). */
export interface CommunityCore {
  config: Config;
  database: Database;
  clock: Clock;
  events: EventLog;
  cursors: CursorCodec;
}

export interface CommunityDeps {
  identity: { users: UserLookup };
  /** Course membership, for course posts and course feeds; without it, course visibility is refused. */
  learning?: { membership: CourseMembership };
}

/** Posts, comments, reactions, follows and feeds. */
export async function createCommunityModule(core: CommunityCore, deps: CommunityDeps): Promise<CommunityModule> {
  const { database, clock, events, cursors } = core;
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
    routes: async (app) => routes(app),
  });
}
