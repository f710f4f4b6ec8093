import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AppError, CoreErrors } from './problem.js';

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1–100).' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Opaque `nextCursor` of the previous page.' })),
});
export type PageQuery = Static<typeof PageQuery>;

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
  });

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type CursorValues = Array<string | number | null>;

/**
 * Opaque keyset cursors: the sort key of the last item, signed so that a client can neither read
 * structure into them nor forge one that reaches into another query's key space.
 */
export interface CursorCodec {
  encode(values: CursorValues): string;
  decode(cursor: string): CursorValues;
}

export function createCursorCodec(secret: string): CursorCodec {
  const sign = (data: string) => createHmac('sha256', secret).update(data).digest().subarray(0, 12);
  const invalid = () => new AppError(400, CoreErrors.PAGINATION_INVALID_CURSOR, 'The cursor is not one this server issued for this list.');
  return {
    encode(values) {
      const data = Buffer.from(JSON.stringify(values)).toString('base64url');
      return `${data}.${sign(data).toString('base64url')}`;
    },
    decode(cursor) {
      const [data, mac, extra] = cursor.split('.');
      if (!data || !mac || extra !== undefined) throw invalid();
      const given = Buffer.from(mac, 'base64url');
      const expected = sign(data);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
      const values: unknown = JSON.parse(Buffer.from(data, 'base64url').toString('utf8'));
      if (!Array.isArray(values) || !values.every((v) => v === null || ['string', 'number'].includes(typeof v))) throw invalid();
      return values as CursorValues;
    },
  };
}

/**
 * Turns `limit + 1` rows fetched in keyset order into a page: the extra row only proves that
 * another page exists, and the cursor is the sort key of the last row returned.
 */
export function toPage<Row, Item = Row>(
  rows: Row[],
  limit: number,
  codec: CursorCodec,
  keyOf: (row: Row) => CursorValues,
  map: (row: Row) => Item = (row) => row as unknown as Item,
): Page<Item> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(map), nextCursor: rows.length > limit && last !== undefined ? codec.encode(keyOf(last)) : null };
}
