import type { Connection } from 'mongoose';

/** What the MongoDB-wire server behind a connection does fast. */
export interface DatabaseTraits {
  /**
   * False on FerretDB 1.x. Upstream, only an `_id` equality filter uses an index there and every
   * other filter reads the whole collection; Herald's build (scripts/ferretdb) also uses an index
   * for equality on its first field, but never for a range or a sort, so `{ userId, seq > n }` still
   * decodes every notification of the user. Hot paths look a seq window up by `_id` instead (on
   * MongoDB they use the secondary indexes).
   */
  secondaryIndexes: boolean;
}

const known = new WeakMap<Connection, Promise<DatabaseTraits>>();

/** Asks the server once per connection (buildInfo); FerretDB names itself there. */
export function databaseTraits(connection: Connection): Promise<DatabaseTraits> {
  let traits = known.get(connection);
  if (!traits) {
    traits = (async () => {
      const db = connection.db;
      if (!db) throw new Error('not connected to the database');
      const info = await db.admin().command({ buildInfo: 1 });
      return { secondaryIndexes: !('ferretdbVersion' in info) };
    })();
    known.set(connection, traits);
    // A failed probe (database down) is asked again next time.
    traits.catch(() => known.delete(connection));
  }
  return traits;
}
