import { CompiledQuery, SelectQueryNode, type Compilable, type Kysely } from 'kysely';

type Db = Kysely<any>;

/**
 * A SELECT built and compiled once, run many times with new argument values. For hot reads (one
 * row by primary key), building and compiling a Kysely query costs more than running it.
 *
 * `build` receives stand-ins for its arguments; each must end up as a bound value (a `where`
 * operand, a `limit`), not as an identifier or a list to expand (`in` takes one stand-in per value).
 */
export type ReadBuilder<Args extends unknown[], Row> = (db: Db, ...args: Args) => Compilable<Row>;
export type PreparedRead<Args extends unknown[], Row> = (...args: Args) => Promise<Row[]>;

/** Stands for an argument while the query is built; found again among the compiled parameters. */
class Placeholder {
  constructor(readonly index: number) {}
}

export interface CompiledRead {
  sql: string;
  /** The statement's parameters for these arguments, in order. */
  parameters(args: readonly unknown[]): unknown[];
  /** A Kysely query to run through the ordinary driver path (PostgreSQL, or a busy SQLite connection). */
  query(args: readonly unknown[]): CompiledQuery;
}

export function compileRead<Args extends unknown[], Row>(db: Db, build: ReadBuilder<Args, Row>): CompiledRead {
  const placeholders = Array.from({ length: Math.max(0, build.length - 1) }, (_, i) => new Placeholder(i));
  const compiled = build(db, ...(placeholders as unknown as Args)).compile();
  if (!SelectQueryNode.is(compiled.query)) throw new Error('compileRead: only SELECT queries can be prepared');
  // Each parameter is either an argument (by position) or a constant of the query.
  const sources = compiled.parameters.map((value) => (value instanceof Placeholder ? value : { constant: value }));
  const unused = placeholders.find((p) => !sources.includes(p));
  if (unused) throw new Error(`compileRead: argument ${unused.index + 1} is not a bound value of the query`);
  const parameters = (args: readonly unknown[]) => sources.map((s) => (s instanceof Placeholder ? args[s.index] : s.constant));
  return {
    sql: compiled.sql,
    parameters,
    query: (args) => CompiledQuery.raw(compiled.sql, parameters(args)),
  };
}

/**
 * A read compiled once that runs through whichever handle it is given, the root or an open
 * transaction: for hot reads that must see the caller's transaction (prepareRead runs outside any).
 */
export function compileReadOn<Args extends unknown[], Row>(db: Db, build: ReadBuilder<Args, Row>) {
  const read = compileRead(db, build);
  return async (handle: Pick<Db, 'executeQuery'>, ...args: Args): Promise<Row[]> => (await handle.executeQuery<Row>(read.query(args))).rows;
}
