import { describe, expect, it } from 'vitest';
import { DbError } from '../db/errors.js';
import { containsNul, inputPartsOf, toAppError } from './error-handler.js';

describe('mapping errors to problems', () => {
  it('turns typed database errors into client-facing statuses, never a 500', () => {
    expect(toAppError(new DbError('unique', 'dup'))).toMatchObject({ status: 409, code: 'CONFLICT' });
    expect(toAppError(new DbError('foreign_key', 'fk'))).toMatchObject({ status: 409, code: 'CONFLICT' });
    expect(toAppError(new DbError('invalid_text', 'nul'))).toMatchObject({ status: 400, code: 'REQUEST_MALFORMED' });
    const busy = toAppError(new DbError('busy', 'locked'));
    expect(busy).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', headers: { 'retry-after': '1' } });
  });

  it('hides anything unknown behind a 500 without its message', () => {
    const error = toAppError(new Error('password=hunter2'));
    expect(error).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(error.message).not.toContain('hunter2');
  });

  it('finds NUL characters in keys and deeply nested values', () => {
    expect(containsNul({ a: [{ b: 'ok' }] })).toBe(false);
    expect(containsNul({ a: [{ b: 'x\u0000' }] })).toBe(true);
    expect(containsNul({ ['k\u0000']: 1 })).toBe(true);
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 20_000; i++) deep = [deep];
    expect(containsNul(deep)).toBe(true);
  });

  it('checks for NUL only the parts of a request that a route can read', () => {
    expect(inputPartsOf({ method: 'GET', url: '/health/live' })).toEqual([]);
    expect(inputPartsOf({ method: 'GET', url: '/api/v1/widgets/:id', schema: {} })).toEqual(['params']);
    expect(inputPartsOf({ method: 'OPTIONS', url: '*' })).toEqual(['params', 'body']);
    expect(inputPartsOf({ method: 'GET', url: '/api/v1/widgets', schema: { querystring: {} } })).toEqual(['query']);
    expect(inputPartsOf({ method: ['GET', 'POST'], url: '/api/v1/widgets' })).toEqual(['body']);
    expect(inputPartsOf({ method: 'DELETE', url: '/api/v1/widgets/:id' })).toEqual(['params', 'body']);
  });
});
