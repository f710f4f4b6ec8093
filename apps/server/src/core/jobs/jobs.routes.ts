import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../module.js';
import { Page, PageQuery, toPage, type CursorCodec } from '../http/pagination.js';
import { AppError, CoreErrors } from '../http/problem.js';
import type { JobQueue, JobRecord } from './types.js';

export const JOBS_MANAGE = 'jobs:manage';

const JobStatusSchema = Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('dead')]);
const JobSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    status: JobStatusSchema,
    attempts: Type.Integer(),
    maxAttempts: Type.Integer(),
    runAt: Type.String({ format: 'date-time' }),
    lastError: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Job', title: 'Job' },
);

// Payloads may hold personal data (email addresses); the admin list shows metadata only.
const view = ({ id, name, status, attempts, maxAttempts, runAt, lastError, createdAt, updatedAt }: JobRecord) => ({
  id,
  name,
  status,
  attempts,
  maxAttempts,
  runAt,
  lastError,
  createdAt,
  updatedAt,
});

/** Admin view of the job queue: list jobs (dead letters first of all) and retry a dead one. */
export function registerJobRoutes(app: AppInstance, { jobs, cursors }: { jobs: JobQueue; cursors: CursorCodec }) {
  app.addSchema(JobSchema);
  app.get(
    '/admin/jobs',
    {
      config: { access: { permission: JOBS_MANAGE } },
      schema: {
        tags: ['admin'],
        summary: 'List jobs, newest first',
        querystring: Type.Composite([PageQuery, Type.Object({ status: Type.Optional(JobStatusSchema) })], { additionalProperties: false }),
        response: { 200: Page(Type.Ref(JobSchema)) },
      },
    },
    async (request) => {
      const { query } = request;
      const limit = query.limit ?? 20;
      const afterId = query.cursor ? String(cursors.decode(query.cursor)[0]) : undefined;
      const rows = await jobs.list({ status: query.status, limit: limit + 1, afterId });
      return toPage(rows, limit, cursors, (job) => [job.id], view);
    },
  );

  app.post(
    '/admin/jobs/:id/retry',
    {
      config: { access: { permission: JOBS_MANAGE } },
      schema: {
        tags: ['admin'],
        summary: 'Put a dead job back in the queue with a fresh attempt budget',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Ref(JobSchema) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const job = await jobs.get(id);
      if (!job) throw new AppError(404, CoreErrors.NOT_FOUND, 'No such job.');
      if (job.status !== 'dead') throw new AppError(409, 'JOBS_NOT_DEAD', `Only dead jobs can be retried; this one is ${job.status}.`);
      const retried = await jobs.retry(id);
      if (!retried) throw new AppError(409, 'JOBS_NOT_DEAD', 'The job changed state; fetch it again.');
      return view(retried);
    },
  );
}
