import type mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { collectionName } from './platform/collections';

type Document = mongoose.mongo.Document;

/** Documents looked at per collection: enough to tell another app's collection from Herald's, cheap at any size. */
const SAMPLE = 20;

/** What every document of one of Herald's collections has, whatever version wrote it. */
const SHAPES: Record<string, (doc: Document) => boolean> = {
  notifications: (doc) => doc.userId !== undefined && typeof doc.seq === 'number' && typeof doc.type === 'string',
  preferences: (doc) => Array.isArray(doc.mutedTypes),
  topics: (doc) => typeof doc._id === 'string' && typeof doc.visibility === 'string',
  topic_members: (doc) => doc.userId !== undefined && typeof doc.topic === 'string',
  recipients: (doc) =>
    typeof doc._id === 'string' && doc.updatedAt instanceof Date && (doc.email === undefined || typeof doc.email === 'string'),
  push_subscriptions: (doc) => typeof doc.userId === 'string' && typeof doc.endpoint === 'string' && typeof doc.keys === 'object',
  notification_jobs: (doc) =>
    ['send', 'wake', 'expire', 'push', 'email-due', 'digest'].includes(doc.kind as string) && typeof doc.dueHour === 'string',
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
