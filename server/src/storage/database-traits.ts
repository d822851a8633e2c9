import type { Connection } from 'mongoose';

/** What the MongoDB-wire server behind a connection does fast. */
export interface DatabaseTraits {
  /**
   * False on FerretDB 1.x. Upstream, only an `_id` equality filter uses an index there and every
   * other filter reads the whole collection; Herald's build (scripts/ferretdb) also uses an index
   * for equality on its first field and has SQLite filter, count and (see sortedLimits) order, but it
   * still evaluates each of the user's documents' JSON in SQL where MongoDB walks an index range. Hot
   * paths look a seq window up by `_id` instead (on MongoDB they use the secondary indexes).
   */
  secondaryIndexes: boolean;
  /**
   * Herald's FerretDB build from herald.5 on: a `count` command whose filter it can hand to SQLite
   * whole (equality on `_id` or an index's first field, `null`, `$or` of those) is one SQL COUNT,
   * with no document read. Elsewhere on FerretDB a count reads every document it counts.
   */
  sqlCounts: boolean;
  /**
   * Herald's FerretDB build from herald.6 on: a find sorted on one numeric field with a limit, whose
   * filter it can hand to SQLite whole, decodes only the first matches (SQLite orders and limits), so
   * "the newest notification of a user" reads one document instead of all of the user's.
   */
  sortedLimits: boolean;
}

/** The build marker of Herald's FerretDB (`v1.24.2-herald.6`), as buildInfo reports it. */
const HERALD_BUILD = /-herald\.(\d+)/;

const known = new WeakMap<Connection, Promise<DatabaseTraits>>();

/** Asks the server once per connection (buildInfo); FerretDB names itself there. */
export function databaseTraits(connection: Connection): Promise<DatabaseTraits> {
  let traits = known.get(connection);
  if (!traits) {
    traits = (async () => {
      const db = connection.db;
      if (!db) throw new Error('not connected to the database');
      const info = await db.admin().command({ buildInfo: 1 });
      const ferretdb = typeof info.ferretdbVersion === 'string' ? info.ferretdbVersion : undefined;
      const build = Number(ferretdb?.match(HERALD_BUILD)?.[1] ?? 0);
      return { secondaryIndexes: !('ferretdbVersion' in info), sqlCounts: build >= 5, sortedLimits: build >= 6 };
    })();
    known.set(connection, traits);
    // A failed probe (database down) is asked again next time.
    traits.catch(() => known.delete(connection));
  }
  return traits;
}
