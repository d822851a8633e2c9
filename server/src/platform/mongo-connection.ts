import mongoose, { type Connection } from 'mongoose';

/**
 * Options of createMongoConnection.
 *
 * @example
 * createMongoConnection(uri, { serverSelectionTimeoutMS: 5000 });
 */
export interface MongoConnectionOptions {
  /** How long to look for a server before an operation fails. @default 3000 */
  serverSelectionTimeoutMS?: number;
  /**
   * A connection that hears nothing for this long is closed and its operation fails, instead of
   * waiting for the driver's monitor to give up on a stalled server (about 40 s). Long enough for any
   * one of Herald's operations. @default 20000
   */
  socketTimeoutMS?: number;
  /**
   * Operations this process has at the database at once; more wait in the driver, and one that waits
   * longer than `waitQueueTimeoutMS` fails (`database_unavailable`) without reaching the database. A
   * slow database then sees a bounded queue, not every caller's retry piled on the last: the work it
   * does is work someone still waits for, and it catches up once the load falls. A `maxPoolSize` in the
   * URI wins. @default 20
   */
  maxPoolSize?: number;
  /** @default 2000 */
  waitQueueTimeoutMS?: number;
}

/**
 * The one place Herald's mongoose options are written. Every connection Herald
 * opens (a gateway's, a publisher's) is made here:
 * - bufferCommands off: while the database is down, calls fail at once
 *   (`database_unavailable`) instead of queueing writes in memory;
 * - autoIndex off: no surprise index builds in production; ensureIndexes
 *   creates them at start;
 * - autoCreate off: no collection appears just because a model was compiled
 *   (ensureIndexes creates Herald's, after checking the database is Herald's);
 * - sanitizeFilter on: any `$` object that reaches a filter from input is
 *   compared literally; Herald's own operators are marked `mongoose.trusted`;
 * - a pool of 20 with a 2 s wait queue (see maxPoolSize): load past what the
 *   database answers is refused here, fast, instead of queueing in it.
 *
 * @example
 * const connection = await createMongoConnection(process.env.MONGODB_URI!).asPromise();
 */
export function createMongoConnection(uri: string, options: MongoConnectionOptions = {}): Connection {
  const inUri = (name: string) => new RegExp(`[?&]${name}=`, 'i').test(uri);
  return mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 3000,
    socketTimeoutMS: options.socketTimeoutMS ?? 20_000,
    ...(inUri('maxPoolSize') ? {} : { maxPoolSize: options.maxPoolSize ?? 20 }),
    ...(inUri('waitQueueTimeoutMS') ? {} : { waitQueueTimeoutMS: options.waitQueueTimeoutMS ?? 2000 }),
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
    sanitizeFilter: true,
  });
}
