import type mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { WHOLE_ANSWER, collectionName } from './platform/collections';
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

/** The record that a migration is done: one document per migration in `<prefix>notification_migrations`. */
const STRING_USER_IDS = 'string-user-ids';
const IDEMPOTENCY_DAYS = 'idempotency-key-days';

/**
 * Idempotency keys expire by the UTC day they were written on (an indexed field). Keys written by an
 * older version have none: they get today's, so they expire in a day or two. Runs once (recorded).
 */
export async function migrateIdempotencyKeyDays(connection: Connection): Promise<number> {
  const db = connection.db;
  if (!db) throw new Error('not connected to the database');
  const migrations = db.collection<{ _id: string; completedAt: Date }>(collectionName(connection, 'notification_migrations'));
  if (await migrations.findOne({ _id: IDEMPOTENCY_DAYS }, { projection: { _id: 1 } })) return 0;
  const keys = db.collection(collectionName(connection, 'idempotency_keys'));
  const { modifiedCount } = await keys.updateMany({ day: { $exists: false } }, { $set: { day: new Date().toISOString().slice(0, 10) } });
  await migrations.updateOne({ _id: IDEMPOTENCY_DAYS }, { $setOnInsert: { completedAt: new Date() } }, { upsert: true });
  return modifiedCount;
}

/**
 * User ids used to be ObjectIds; they are opaque strings now. Data stored
 * before keeps working without a manual step: at the first start of a version
 * that has this, every `userId` (and every per-user `_id`) still stored as an
 * ObjectId is rewritten as its hex string, which is the id the same user has
 * now. Idempotent and safe to run from several instances at once. When it has
 * run through, it records that in `<prefix>notification_migrations`, and later starts skip
 * it with one lookup by _id: looking for ObjectIds is a scan of every
 * notification on a database without an index for it (the bundled FerretDB),
 * which made every start slower as the collection grew. So stop the instances
 * of a version that stored ObjectIds before starting this one.
 */
export async function migrateLegacyUserIds(connection: Connection, logger?: Logger): Promise<MigrationReport> {
  const db = connection.db;
  if (!db) throw new Error('not connected to the database');
  const report: MigrationReport = { notifications: 0, preferences: 0, sequenceFloors: 0 };
  const migrations = db.collection<{ _id: string; completedAt: Date }>(collectionName(connection, 'notification_migrations'));
  if (await migrations.findOne({ _id: STRING_USER_IDS }, { projection: { _id: 1 } })) return report;

  const notifications = db.collection(collectionName(connection, 'notifications'));
  for (;;) {
    const legacy = await notifications
      .find({ userId: { $type: 'objectId' } }, { projection: { _id: 1, userId: 1 }, ...WHOLE_ANSWER })
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
  report.preferences = await rekey(db.collection(collectionName(connection, 'preferences')), (doc, userId) => ({
    updateOne: {
      filter: { _id: userId as unknown as ObjectId },
      update: { $setOnInsert: { mutedTypes: doc.mutedTypes ?? [], updatedAt: doc.updatedAt ?? new Date() } },
      upsert: true,
    },
  }));
  report.sequenceFloors = await rekey(db.collection(collectionName(connection, 'notification_sequences')), (doc, userId) => ({
    updateOne: { filter: { _id: userId as unknown as ObjectId }, update: { $max: { seq: Number(doc.seq ?? 0) } }, upsert: true },
  }));

  if (report.notifications + report.preferences + report.sequenceFloors > 0) {
    logger?.info({ ...report }, 'stored ObjectId user ids rewritten as strings');
  }
  await migrations.updateOne({ _id: STRING_USER_IDS }, { $setOnInsert: { completedAt: new Date() } }, { upsert: true });
  return report;
}

async function rekey(
  collection: ReturnType<NonNullable<Connection['db']>['collection']>,
  rewrite: (doc: Document, userId: string) => AnyBulkWriteOperation,
): Promise<number> {
  let moved = 0;
  for (;;) {
    const legacy = await collection
      .find({ _id: { $type: 'objectId' } }, WHOLE_ANSWER)
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

/** Documents looked at per collection: enough to tell another app's collection from Herald's, cheap at any size. */
const SAMPLE = 20;

/** What every document of one of Herald's collections has, whatever version wrote it. */
const SHAPES: Record<string, (doc: Document) => boolean> = {
  notifications: (doc) => doc.userId !== undefined && typeof doc.seq === 'number' && typeof doc.type === 'string',
  preferences: (doc) => Array.isArray(doc.mutedTypes),
  topics: (doc) => typeof doc._id === 'string' && typeof doc.visibility === 'string',
  topic_members: (doc) => doc.userId !== undefined && typeof doc.topic === 'string',
  notification_jobs: (doc) => ['send', 'wake', 'expire'].includes(doc.kind as string) && typeof doc.dueHour === 'string',
};

/**
 * Herald can share a database with the host application, but not a collection: if one of the
 * collections Herald would use already holds another app's documents (a host's own `notifications`,
 * say), Herald refuses to start rather than read and write them as its own. The fix is a collection
 * prefix (`collectionPrefix`, `MONGODB_COLLECTION_PREFIX`) or a database of Herald's own.
 */
export async function refuseForeignCollections(connection: Connection): Promise<void> {
  const db = connection.db;
  if (!db) throw new Error('not connected to the database');
  for (const [name, isHeralds] of Object.entries(SHAPES)) {
    const collection = collectionName(connection, name);
    const sample = await db.collection(collection).find({}).limit(SAMPLE).toArray();
    if (sample.some((doc) => !isHeralds(doc))) {
      throw new Error(
        `The collection "${collection}" in the database "${db.databaseName}" holds documents that are not Herald's. ` +
          'Give Herald its own collection names with a prefix (collectionPrefix: "herald_", or MONGODB_COLLECTION_PREFIX=herald_) or a database of its own.',
      );
    }
  }
}
