import { Type } from '@sinclair/typebox';
import fastJson from 'fast-json-stringify';
import { describe, expect, it } from 'vitest';
import { buildSerializer, forSerialization } from './serialization.js';

const Profile = Type.Object({
  name: Type.String(),
  email: Type.Union([Type.String({ format: 'email' }), Type.Null()]),
  year: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  visibility: Type.Union([Type.Literal('public'), Type.Literal('members'), Type.Literal('hidden')]),
  address: Type.Union([Type.Object({ city: Type.String() }), Type.Null()]),
  tags: Type.Union([Type.Array(Type.String()), Type.Null()]),
  either: Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.Integer() })]),
});

const serializerOf = (schema: unknown) => buildSerializer({}, {})({ schema }) as (value: unknown) => string;

describe('response serialization', () => {
  it('writes nullable fields and literal unions as type lists, which need no validator, and leaves other unions alone', () => {
    const rewritten = forSerialization(Profile) as { properties: Record<string, Record<string, unknown>> };
    expect(rewritten.properties.email).toMatchObject({ type: ['string', 'null'], format: 'email' });
    expect(rewritten.properties.year).toMatchObject({ type: ['integer', 'null'] });
    expect(rewritten.properties.visibility).toMatchObject({ type: ['string'] });
    expect(rewritten.properties.visibility).not.toHaveProperty('anyOf');
    expect(rewritten.properties.address).toMatchObject({ type: ['object', 'null'], properties: { city: { type: 'string' } } });
    expect(rewritten.properties.tags).toMatchObject({ type: ['array', 'null'], items: { type: 'string' } });
    expect(rewritten.properties.either).toHaveProperty('anyOf');
    // Without `either`, fast-json-stringify needs no Ajv at all: no validator compiled on a first response.
    const { either: _, ...plain } = Profile.properties;
    const needsAjv = (schema: unknown) => !(fastJson(schema as never, { mode: 'standalone' }) as unknown as string).includes('const validator = null');
    expect(needsAjv(Type.Object(plain))).toBe(true);
    expect(needsAjv(forSerialization(Type.Object(plain)))).toBe(false);
  });

  it('leaves the schema it was given as it was (validation and the OpenAPI document use it)', () => {
    const before = JSON.stringify(Profile);
    forSerialization(Profile);
    expect(JSON.stringify(Profile)).toBe(before);
  });

  it('writes the same JSON as the schema as written', () => {
    const values = [
      { name: 'Ada', email: null, at: null, visibility: 'public', address: null, tags: null, either: { a: 'x' } },
      { name: 'Bo "B"', email: 'bo@example.org', year: 2001, at: new Date('2026-01-02T03:04:05.000Z'), visibility: 'hidden', address: { city: 'Lyon' }, tags: ['a', 'b'], either: { b: 3 } },
    ];
    const plain = fastJson(Profile as never);
    const ours = serializerOf(Profile);
    for (const value of values) expect(ours(value)).toBe(plain(value as never));
  });
});
