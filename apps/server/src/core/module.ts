import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { EventSubscriber } from './events/types.js';
import type { JobDefinition, Schedule } from './jobs/types.js';
import type { AutoRooms, SocketCommands } from './realtime/commands.js';
import type { RoomAuthorizer } from './realtime/rooms.js';

/** The Fastify instance with TypeBox typing: route handlers get typed params, query and body. */
export type AppInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What a module's routes plugin receives: the app, already under the `/api/v1` prefix. */
export type RoutesPlugin = (app: AppInstance) => Promise<void>;

/** A command a module adds to the CLI (`lyceum create-admin`). */
export type CliHook = (args: string[]) => Promise<void>;

/**
 * The contract between core and a module. A module is built by a factory that receives its
 * dependencies (`createChatModule({ db, events, jobs, clock })`) and returns this description;
 * app.ts registers each piece with the core service that owns it.
 */
export interface LyceumModule {
  /** Lower-case name; prefixes its tables (`chat_message`), events, jobs and error codes. */
  name: string;
  /** Folder of `<yyyymmddhhmmss>_<what>.ts` migrations, merged with every other module's. */
  migrations?: URL;
  routes?: RoutesPlugin;
  /** Routes outside `/api/v1` that a standard fixes the path of (`/.well-known/jwks.json`). */
  rootRoutes?: RoutesPlugin;
  /** Job handlers by name; names start with the module name (`chat.deliver`). */
  jobs?: Record<string, JobDefinition>;
  schedules?: Schedule[];
  /** Reactions to events from the log, run after commit on every node. */
  subscribers?: EventSubscriber[];
  /** Realtime scopes this module owns (`conversation`), and who may follow one of them. */
  rooms?: Record<string, RoomAuthorizer>;
  /** Client → server commands over Socket.io (`chat:send`), dispatched by core's gateway with acks. */
  socketCommands?: SocketCommands;
  /** Rooms every socket of a user joins on connect (the user's conversations); only prefixes some module's `rooms` owns. */
  socketRooms?: AutoRooms;
  /** Wire names API.md fixes for some of this module's event types (`chat.message.created` → `chat:message`). */
  realtimeNames?: Record<string, string>;
  /** Named permissions this module's routes declare, with what each allows. */
  permissions?: Record<string, string>;
  cli?: { 'create-admin'?: CliHook };
  /** Called once the app is listening / before it closes, for modules with background work. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

const NAME = /^[a-z][a-z0-9]*$/;

export function defineModule<M extends LyceumModule>(module: M): M {
  if (!NAME.test(module.name)) throw new Error(`Module name "${module.name}" must be lower-case letters and digits`);
  for (const job of Object.keys(module.jobs ?? {})) {
    if (!job.startsWith(`${module.name}.`)) throw new Error(`Job "${job}" of module ${module.name} must start with "${module.name}."`);
  }
  return module;
}
