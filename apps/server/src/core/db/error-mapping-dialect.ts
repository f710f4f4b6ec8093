import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import type { DbError } from './errors.js';

type MapError = (err: unknown) => DbError | undefined;

const translate = (mapError: MapError, err: unknown): unknown => mapError(err) ?? err;

/** A connection that hands the driver's errors to the dialect's mapper before anyone sees them. */
class MappedConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly mapError: MapError,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(query);
    } catch (err) {
      throw translate(this.mapError, err);
    }
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(query, chunkSize);
    } catch (err) {
      throw translate(this.mapError, err);
    }
  }
}

class MappedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly mapError: MapError,
  ) {}

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translate(this.mapError, err);
    }
  }

  init() {
    return this.guard(() => this.inner.init());
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    return new MappedConnection(await this.guard(() => this.inner.acquireConnection()), this.mapError);
  }
  beginTransaction(c: DatabaseConnection, settings: TransactionSettings) {
    return this.guard(() => this.inner.beginTransaction((c as MappedConnection).inner, settings));
  }
  commitTransaction(c: DatabaseConnection) {
    return this.guard(() => this.inner.commitTransaction((c as MappedConnection).inner));
  }
  rollbackTransaction(c: DatabaseConnection) {
    return this.guard(() => this.inner.rollbackTransaction((c as MappedConnection).inner));
  }
  savepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    return this.guard(() => this.inner.savepoint!((c as MappedConnection).inner, name, compile));
  }
  rollbackToSavepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    return this.guard(() => this.inner.rollbackToSavepoint!((c as MappedConnection).inner, name, compile));
  }
  releaseSavepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    return this.guard(() => this.inner.releaseSavepoint!((c as MappedConnection).inner, name, compile));
  }
  releaseConnection(c: DatabaseConnection) {
    return this.inner.releaseConnection((c as MappedConnection).inner);
  }
  destroy() {
    return this.inner.destroy();
  }
}

/** Wraps a Kysely dialect so that every driver error passes through `mapError`. */
export function withErrorMapping(dialect: Dialect, mapError: MapError): Dialect {
  return {
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    createDriver: (): Driver => new MappedDriver(dialect.createDriver(), mapError),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createIntrospector: (db: Kysely<any>): DatabaseIntrospector => dialect.createIntrospector(db),
  };
}
