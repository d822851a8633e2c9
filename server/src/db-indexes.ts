import type { Connection } from 'mongoose';
import { refuseForeignCollections } from './db-guard';
import { useCollectionPrefix } from './platform/collections';
import { jobModel } from './notifications/scheduled-jobs';
import { FEED_INDEXES, GROUP_HEAD_INDEX, GROUP_SLOT_INDEX, KEY_INDEX, notificationModel } from './notifications/notification-model';
import { databaseTraits } from './storage/database-traits';
import { preferenceModel } from './preferences/preference-model';
import { pushSubscriptionModel } from './push/push-subscriptions';
import { topicModels } from './topics/topic-model';

/**
 * Options of ensureIndexes.
 *
 * @example
 * const options: EnsureIndexesOptions = { collectionPrefix: 'herald_' };
 */
export interface EnsureIndexesOptions {
  /** Names Herald's collections `<prefix>notifications`, … (see useCollectionPrefix). @default "" */
  collectionPrefix?: string;
}

/**
 * Prepares the database at start: refuses collections that belong to another
 * app (see refuseForeignCollections), then creates every index Herald's
 * own collections rely on, above all the unique (userId, seq). autoIndex is off
 * (no surprise index builds in production); creating an index that exists is a
 * no-op. Collections of the demo are indexed by installDemo, only where it runs.
 *
 * Run it once at start (startHerald, attachHerald and createHeraldPublisher
 * do), or from your own migration step.
 *
 * @example
 * await ensureIndexes(mongoose.connection, { collectionPrefix: 'herald_' }); // before the first publish
 */
export async function ensureIndexes(connection: Connection, options: EnsureIndexesOptions = {}): Promise<void> {
  if (options.collectionPrefix !== undefined) useCollectionPrefix(connection, options.collectionPrefix);
  await refuseForeignCollections(connection);
  const { Topic, TopicMember } = topicModels(connection);
  const models = [
    notificationModel(connection),
    preferenceModel(connection),
    jobModel(connection),
    Topic,
    TopicMember,
    pushSubscriptionModel(connection),
  ];
  await Promise.all(models.map((model) => model.createIndexes()));
  // Unique per (userId, key) over the notifications that have a key (see KEY_INDEX).
  const ferretDb = !(await databaseTraits(connection)).secondaryIndexes;
  await notificationModel(connection).collection.createIndex(KEY_INDEX.key, {
    name: KEY_INDEX.name,
    unique: true,
    ...(ferretDb ? {} : { partialFilterExpression: { key: { $exists: true } } }),
  });
  // Only grouped items have these fields (see NotificationDoc.groupHead); the same partial/NULL rule.
  await notificationModel(connection).collection.createIndex(GROUP_HEAD_INDEX.key, {
    name: GROUP_HEAD_INDEX.name,
    ...(ferretDb ? {} : { partialFilterExpression: { groupHead: { $exists: true } } }),
  });
  await notificationModel(connection).collection.createIndex(GROUP_SLOT_INDEX.key, {
    name: GROUP_SLOT_INDEX.name,
    unique: true,
    ...(ferretDb ? {} : { partialFilterExpression: { groupSlot: { $exists: true } } }),
  });
  if (!ferretDb) {
    for (const index of FEED_INDEXES) await notificationModel(connection).collection.createIndex(index.key, { name: index.name });
  }
}
