import { PgDialect } from "drizzle-orm/pg-core";
import type { SQL } from "drizzle-orm";
import type { Database, Executor } from "./index";
import { rowsOf } from "./rows";

/**
 * Statements of the busiest requests (the sign-in steps), built once per
 * database handle instead of once per request: drizzle does not rebuild the
 * SQL text, and on PostgreSQL the statement is parsed and planned once per
 * connection. Every other query drizzle sends is an unnamed statement, parsed
 * and planned on every execution — for the code step's lookup that was most
 * of PostgreSQL's time (docs/PERFORMANCE.md).
 *
 * Only for statements whose parameters are all equalities on keys: after five
 * executions PostgreSQL may keep one generic plan, which for a key lookup is
 * the custom plan. Searches (LIKE, ranges the planner costs by their values)
 * stay unprepared, so each is planned for the values it has.
 *
 * Keyed by the handle: after a PostgreSQL outage the pool, and so the
 * database object, is new (db/index.ts), and its statements are prepared anew.
 * A transaction is an executor of its own: the query is built again for it,
 * and postgres.js still finds the statement its connection already prepared
 * (it keys them by their text).
 */
export function preparedPerDatabase<T, E extends Executor = Database>(build: (db: E) => T): (db: E) => T {
  const built = new WeakMap<E, T>();
  return (db) => {
    let statement = built.get(db);
    if (statement === undefined) built.set(db, (statement = build(db)));
    return statement;
  };
}

const dialect = new PgDialect();

/**
 * A raw statement (a data-modifying CTE the query builder cannot express) as a
 * prepared one: its values are `sql.placeholder(name)`s, given to `run`.
 */
export function preparedRawStatement<Row>(name: string, statement: SQL): (db: Executor) => { run(values: Record<string, unknown>): Promise<Row[]> } {
  const query = dialect.sqlToQuery(statement);
  return preparedPerDatabase((db: Executor) => {
    const prepared = db._.session.prepareQuery(query, undefined, name, false);
    return { run: async (values) => rowsOf<Row>(await prepared.execute(values)) };
  });
}
