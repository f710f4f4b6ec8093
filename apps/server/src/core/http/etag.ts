import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, CoreErrors } from './problem.js';

/** Every resource carries an integer `version`; its ETag is that number, quoted. */
export const etagOf = (version: number): string => `"${version}"`;

export function setEtag(reply: FastifyReply, version: number): void {
  reply.header('etag', etagOf(version));
}

/**
 * The version the client says it is changing, from `If-Match`, or undefined when it sent none
 * (or `*`). Services compare it inside their update so the check and the write are one step.
 */
export function expectedVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(header);
  if (!match) throw new AppError(400, CoreErrors.REQUEST_MALFORMED, 'If-Match must be an ETag this server issued, like "3".');
  return Number(match[1]);
}

export function versionMismatch(current: number): AppError {
  return new AppError(412, CoreErrors.PRECONDITION_FAILED, `The resource has changed; its current version is ${current}. Fetch it again and retry.`, {
    headers: { etag: etagOf(current) },
  });
}
