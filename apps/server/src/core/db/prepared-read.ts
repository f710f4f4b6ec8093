import { CompiledQuery, DeleteQueryNode, InsertQueryNode, SelectQueryNode, UpdateQueryNode, type Compilable, type Kysely, type RootOperationNode } from 'kysely';

type Db = Kysely<any>;

/**
 * A SELECT (or, with compileWriteOn, a write) built and compiled once, run many times with new
 * argument values. For hot reads (one row by primary key), building and compiling a Kysely query
 * costs more than running it.
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

/**
 * `arity` is the number of arguments, for a `build` that takes them as a rest parameter (an `in`
 * list or rows of a given length); by default, the parameters `build` declares after `db`.
 */
export function compileRead<Args extends unknown[], Row>(db: Db, build: ReadBuilder<Args, Row>, arity = build.length - 1): CompiledRead {
  return compile(db, build, arity, (node) => SelectQueryNode.is(node), 'compileRead: only SELECT queries can be prepared');
}

function compile<Args extends unknown[], Row>(db: Db, build: ReadBuilder<Args, Row>, arity: number, accepts: (node: RootOperationNode) => boolean, refusal: string): CompiledRead {
  const placeholders = Array.from({ length: Math.max(0, arity) }, (_, i) => new Placeholder(i));
  const compiled = build(db, ...(placeholders as unknown as Args)).compile();
  if (!accepts(compiled.query)) throw new Error(refusal);
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
export function compileReadOn<Args extends unknown[], Row>(db: Db, build: ReadBuilder<Args, Row>, arity?: number) {
  return rowsOn<Args, Row>(compileRead(db, build, arity));
}

const rowsOn =
  <Args extends unknown[], Row>(compiled: CompiledRead) =>
  async (handle: Pick<Db, 'executeQuery'>, ...args: Args): Promise<Row[]> =>
    (await handle.executeQuery<Row>(compiled.query(args))).rows;

const isWrite = (node: RootOperationNode) => InsertQueryNode.is(node) || UpdateQueryNode.is(node) || DeleteQueryNode.is(node);

/**
 * An INSERT, UPDATE or DELETE compiled once, run through the handle it is given, like
 * compileReadOn; it resolves to the number of rows it changed.
 */
export function compileWriteOn<Args extends unknown[]>(db: Db, build: ReadBuilder<Args, unknown>, arity = build.length - 1) {
  const write = compileWrite(db, build, arity);
  return async (handle: Pick<Db, 'executeQuery'>, ...args: Args): Promise<number> => Number((await handle.executeQuery(write.query(args))).numAffectedRows ?? 0);
}

/** A write with RETURNING, compiled once like compileWriteOn; it resolves to the rows it returned. */
export function compileWriteReturningOn<Args extends unknown[], Row>(db: Db, build: ReadBuilder<Args, Row>, arity = build.length - 1) {
  return rowsOn<Args, Row>(compileWrite(db, build, arity));
}

const compileWrite = <Args extends unknown[], Row>(db: Db, build: ReadBuilder<Args, Row>, arity: number) =>
  compile(db, build, arity, isWrite, 'compileWriteOn: only INSERT, UPDATE and DELETE queries can be prepared');

/** Statements compiled once per count: an `in` list or a multi-row insert has SQL of its own for each length. */
export function perCount<F>(compile: (count: number) => F): (count: number) => F {
  const compiled = new Map<number, F>();
  return (count) => {
    let statement = compiled.get(count);
    if (!statement) compiled.set(count, (statement = compile(count)));
    return statement;
  };
}

/** Compiled inserts take their rows as one flat list of values, row after row, in the order of `columns`. */
export function valuesOf<Row>(columns: ReadonlyArray<keyof Row>, rows: readonly Row[]): unknown[] {
  // A plain loop into one array: flatMap made an array per row, on the hot write paths (a chat
  // batch's 100 messages of 15 columns: 154 -> 16 µs).
  const values = new Array<unknown>(rows.length * columns.length);
  let i = 0;
  for (const row of rows) for (const column of columns) values[i++] = row[column];
  return values;
}

/** The rows a compiled insert's build makes of its stand-ins (see valuesOf). */
export const rowsOf = <Row>(columns: ReadonlyArray<keyof Row & string>, values: readonly unknown[]) =>
  Array.from({ length: values.length / columns.length }, (_, r) => Object.fromEntries(columns.map((c, i) => [c, values[r * columns.length + i]])) as Row);
