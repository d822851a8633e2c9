import type { Connection, Model, Schema } from 'mongoose';

const prefixes = new WeakMap<Connection, string>();
const guarded = new WeakSet<Schema>();

/** A prefix is letters, digits, `_` or `-`, and at most 32 of them (collection names stay short and plain). */
const PREFIX = /^[A-Za-z0-9_-]{0,32}$/;

/**
 * Names Herald's collections on this connection `<prefix>notifications`, `<prefix>preferences`, …, so
 * Herald can share a database with the host application (say `herald_`). Set it once, before Herald
 * builds anything on the connection; every gateway and publisher on the same data must use the same one.
 *
 * @example
 * useCollectionPrefix(mongoose.connection, 'herald_');
 */
export function useCollectionPrefix(connection: Connection, prefix: string): void {
  if (!PREFIX.test(prefix)) throw new Error(`collectionPrefix must match ${PREFIX} (got "${prefix}")`);
  const current = prefixes.get(connection);
  if (current !== undefined && current !== prefix) {
    throw new Error(`this connection already names Herald's collections with the prefix "${current}", not "${prefix}"`);
  }
  prefixes.set(connection, prefix);
}

/** The name one of Herald's collections has on this connection. */
export function collectionName(connection: Connection, name: string): string {
  return (prefixes.get(connection) ?? '') + name;
}

/** Queries that take a filter: every one of Herald's compares a `$` object from input literally. */
const FILTERED = [
  'countDocuments',
  'deleteMany',
  'deleteOne',
  'distinct',
  'find',
  'findOne',
  'findOneAndDelete',
  'findOneAndUpdate',
  'replaceOne',
  'updateMany',
  'updateOne',
] as const;

/**
 * One of Herald's models on this connection. Its name (`herald.<Name>`) never meets a model of the
 * host application on a shared connection, and its schema carries the options Herald's own
 * connections have (see createMongoConnection), so they hold on the host's connection too:
 * no buffering while the database is down, no automatic index builds or collection creation, and
 * filters sanitised.
 *
 * @example
 * export const preferenceModel = (connection: Connection) => heraldModel<PreferenceDoc>(connection, 'Preference', schema);
 */
/**
 * The batch size every read of Herald asks for: a whole answer comes in the first batch and the server
 * closes its cursor at once. A cursor left open between batches holds one of FerretDB's 100 SQLite
 * connections until the client's getMore; when every driver connection was busy on a command waiting
 * for the write lock, whose holder waited for a SQLite connection, nothing moved again (the chaos
 * test's 30-minute run found it). MongoDB still caps a batch at 16 MB.
 */
export const WHOLE_ANSWER = { batchSize: 100_000 } as const;

export function heraldModel<T>(connection: Connection, name: string, schema: Schema<T>): Model<T> {
  const prefix = prefixes.get(connection) ?? '';
  const modelName = prefix ? `herald.${prefix}.${name}` : `herald.${name}`;
  const existing = connection.models[modelName] as Model<T> | undefined;
  if (existing) return existing;
  if (!guarded.has(schema)) {
    guarded.add(schema);
    schema.set('bufferCommands', false);
    schema.set('autoIndex', false);
    schema.set('autoCreate', false);
    for (const operation of FILTERED) {
      schema.pre(operation, function sanitize() {
        this.setOptions({ sanitizeFilter: true });
      });
    }
    schema.pre('find', function wholeAnswer() {
      if (this.getOptions().batchSize === undefined) this.setOptions(WHOLE_ANSWER);
    });
    schema.pre('aggregate', function wholeAnswer() {
      if (this.options.batchSize === undefined) this.option(WHOLE_ANSWER);
    });
  }
  return connection.model<T>(modelName, schema, prefix + String(schema.get('collection')));
}
