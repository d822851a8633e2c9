import type mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import type { Logger } from './platform/logger';

/** Documents converted per round trip. */
const BATCH = 500;

type ObjectId = mongoose.Types.ObjectId;
type Document = mongoose.mongo.Document;
type AnyBulkWriteOperation = mongoose.mongo.AnyBulkWriteOperation;

export interface MigrationReport {
  notifications: number;
  preferences: number;
  sequenceFloors: number;
}

/**
 * User ids used to be ObjectIds; they are opaque strings now. Data stored
 * before keeps working without a manual step: at start, every `userId` (and
 * every per-user `_id`) still stored as an ObjectId is rewritten as its hex
 * string, which is the id the same user has now. Idempotent, safe to run from
 * several instances at once, and a no-op (one indexed-or-small query per
 * collection) once done.
 */
export async function migrateLegacyUserIds(connection: Connection, logger?: Logger): Promise<MigrationReport> {
  const db = connection.db;
  if (!db) throw new Error('not connected to the database');
  const report: MigrationReport = { notifications: 0, preferences: 0, sequenceFloors: 0 };

  const notifications = db.collection('notifications');
  for (;;) {
    const legacy = await notifications
      .find({ userId: { $type: 'objectId' } }, { projection: { _id: 1, userId: 1 } })
      .limit(BATCH)
      .toArray();
    if (legacy.length === 0) break;
    await notifications.bulkWrite(
      legacy.map((doc) => ({
        updateOne: { filter: { _id: doc._id, userId: doc.userId }, update: { $set: { userId: (doc.userId as ObjectId).toHexString() } } },
      })),
      { ordered: false },
    );
    report.notifications += legacy.length;
  }

  // Per-user documents keyed by the user id: re-insert under the string id, then drop the old one.
  report.preferences = await rekey(db.collection('preferences'), (doc, userId) => ({
    updateOne: {
      filter: { _id: userId as unknown as ObjectId },
      update: { $setOnInsert: { mutedTypes: doc.mutedTypes ?? [], updatedAt: doc.updatedAt ?? new Date() } },
      upsert: true,
    },
  }));
  report.sequenceFloors = await rekey(db.collection('notification_sequences'), (doc, userId) => ({
    updateOne: { filter: { _id: userId as unknown as ObjectId }, update: { $max: { seq: Number(doc.seq ?? 0) } }, upsert: true },
  }));

  if (report.notifications + report.preferences + report.sequenceFloors > 0) {
    logger?.info({ ...report }, 'stored ObjectId user ids rewritten as strings');
  }
  return report;
}

async function rekey(
  collection: ReturnType<NonNullable<Connection['db']>['collection']>,
  rewrite: (doc: Document, userId: string) => AnyBulkWriteOperation,
): Promise<number> {
  let moved = 0;
  for (;;) {
    const legacy = await collection
      .find({ _id: { $type: 'objectId' } })
      .limit(BATCH)
      .toArray();
    if (legacy.length === 0) return moved;
    // Old first, then new: FerretDB indexes an ObjectId _id and its hex string as the same key, so the
    // string-keyed copy cannot exist beside the old one. The batch is in memory meanwhile.
    await collection.deleteMany({ _id: { $in: legacy.map((doc) => doc._id) } });
    await collection.bulkWrite(
      legacy.map((doc) => rewrite(doc, (doc._id as ObjectId).toHexString())),
      { ordered: false },
    );
    moved += legacy.length;
  }
}

/** The only users Herald itself ever writes, and only with the demo on. */
const DEMO_USERNAMES = ['alice', 'bob', 'carol'];

/**
 * Herald keeps its data in a database of its own. A `users` collection that
 * holds anyone but the demo's users belongs to another app: Herald refuses to
 * start there rather than put its collections (and, with the demo on, its
 * users) beside that app's.
 */
export async function refuseForeignDatabase(connection: Connection): Promise<void> {
  const db = connection.db;
  if (!db) throw new Error('not connected to the database');
  if ((await db.listCollections({ name: 'users' }, { nameOnly: true }).toArray()).length === 0) return;
  const foreign = await db.collection('users').findOne({ username: { $nin: DEMO_USERNAMES } }, { projection: { _id: 1 } });
  if (foreign) {
    throw new Error(
      `The database "${db.databaseName}" has a users collection of another app. Give Herald a database of its own ` +
        '(MONGODB_URI=mongodb://…/herald): its collections (notifications, preferences, topics, …) would sit beside that app’s.',
    );
  }
}
