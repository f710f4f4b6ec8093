import { decodeTime } from 'ulid';
import { describe, expect, it } from 'vitest';
import { newRequestId } from './ids.js';

describe('request ids', () => {
  it('look like every other id: a prefix, then 26 lower-case characters that start with the time', () => {
    const before = Date.now();
    const id = newRequestId();
    expect(id).toMatch(/^req_[0-9a-z]{26}$/);
    const time = decodeTime(id.slice(4).toUpperCase());
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });

  it('are unique and sort in the order they were made', () => {
    const ids = Array.from({ length: 50_000 }, newRequestId);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
