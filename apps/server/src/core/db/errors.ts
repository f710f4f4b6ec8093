/**
 * Driver errors translated into a small set of typed errors, so that services can react to
 * "this email is taken" without knowing which database they run on. Each dialect maps its own codes.
 */
export type DbErrorKind = 'unique' | 'foreign_key' | 'busy' | 'serialization' | 'not_null' | 'check' | 'invalid_text' | 'unavailable';

export class DbError extends Error {
  constructor(
    readonly kind: DbErrorKind,
    message: string,
    /** The constraint or column the driver named, when it did. */
    readonly constraint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DbError';
  }
}

export const isDbError = (err: unknown, kind?: DbErrorKind): err is DbError =>
  err instanceof DbError && (kind === undefined || err.kind === kind);
