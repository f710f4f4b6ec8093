import type { Db, Tx } from '../db/database.js';

export interface JobContext<P = unknown> {
  id: string;
  name: string;
  payload: P;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the node shuts down or the lease is lost; long handlers should check it. */
  signal: AbortSignal;
}

export interface JobDefinition<P = any> {
  /**
   * Must be idempotent: a job can run more than once (a worker dies after the side effect but
   * before it records success). Use the job id or a natural key to detect a repeat.
   */
  handle(job: JobContext<P>): Promise<void>;
  maxAttempts?: number;
  /** Base delay of the exponential backoff between attempts. */
  backoffMs?: number;
  /** A run longer than this is aborted and counted as a failed attempt. */
  timeoutMs?: number;
}

export interface EnqueueOptions {
  /** Run no earlier than this time. */
  runAt?: Date;
  delayMs?: number;
  /** At most one job with this key ever exists (exactly-once digests, scheduled ticks). */
  uniqueKey?: string;
  maxAttempts?: number;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'dead';

export interface JobRecord {
  id: string;
  name: string;
  payload: unknown;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  runAt: string;
  lastError: string | null;
  uniqueKey: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Schedule {
  /** Unique name of the schedule. */
  name: string;
  /** Five-field cron expression, evaluated in UTC. A new schedule starts at its next tick. */
  cron: string;
  job: string;
  payload?: unknown;
}

export interface JobQueue {
  define(name: string, definition: JobDefinition): void;
  /**
   * Inserts the job in the caller's transaction (or on its own when given the plain handle) and
   * returns its id. Throws for a name not defined on this node. With `uniqueKey`, a duplicate is a
   * no-op that returns the existing job's id.
   */
  enqueue<P>(db: Db | Tx, name: string, payload: P, options?: EnqueueOptions): Promise<string>;
  /** Several jobs in a few multi-row statements (one per recipient of a write, say); their ids, in the order given. */
  enqueueMany<P>(db: Db | Tx, jobs: ReadonlyArray<{ name: string; payload: P; options?: EnqueueOptions }>): Promise<string[]>;
  schedule(schedule: Schedule): void;
  get(id: string): Promise<JobRecord | undefined>;
  list(filter: { status?: JobStatus; limit?: number; afterId?: string }): Promise<JobRecord[]>;
  /** Puts a dead job back in the queue with a fresh attempt budget. */
  retry(id: string): Promise<JobRecord | undefined>;
  depth(): Promise<Record<JobStatus, number>>;
  start(): void;
  /** Stops claiming, waits for running jobs up to `timeoutMs`, then releases the rest. */
  stop(timeoutMs?: number): Promise<void>;
}
