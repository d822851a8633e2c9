import mongoose, { type Connection } from 'mongoose';
import type { FeedCounts } from '@herald/shared';
import { notificationId } from '../notifications/notification-id';
import { notificationModel, type NotificationDoc } from '../notifications/notification-model';
import { databaseTraits } from './database-traits';

/**
 * Reads of a user's notifications whose cheapest form depends on the database behind the connection:
 * MongoDB walks its secondary indexes; FerretDB evaluates each of a user's documents in SQLite, where
 * Herald's build (scripts/ferretdb) counts in SQL and orders and limits numbers in SQL. The domain
 * asks for what it needs here and never asks which database runs.
 */

/**
 * How many notifications `query` (plain values, no casting needed) matches. countDocuments is an
 * aggregation; on Herald's FerretDB build the count command is one SQL COUNT instead, with no document
 * read (see DatabaseTraits.sqlCounts).
 *
 * @example
 * const unread = await countNotifications(connection, { userId: 'alice', readAt: null, archivedAt: null });
 */
export async function countNotifications(connection: Connection, query: Record<string, unknown>): Promise<number> {
  const Notification = notificationModel(connection);
  if (!(await databaseTraits(connection)).sqlCounts) return Notification.countDocuments(query);
  const answer = await connection.db!.command({ count: Notification.collection.collectionName, query });
  return Number(answer.n);
}

/**
 * A user's `{ unread, unseen }` over their inbox (archived ones left out) at a position of their feed:
 * the notifications with a seq up to `atSeq`, counted in the database.
 *
 * @example
 * const { unread, unseen } = await countUnreadAndUnseen(connection, 'alice', 42);
 */
export async function countUnreadAndUnseen(connection: Connection, userId: string, atSeq: number): Promise<FeedCounts> {
  const traits = await databaseTraits(connection);
  const upTo = mongoose.trusted({ $lte: atSeq });
  if (!traits.secondaryIndexes && !traits.sqlCounts) {
    // A stock FerretDB runs each count as an aggregation that reads every notification of the user:
    // one read of the unread or unseen ones answers both. MongoDB and Herald's FerretDB build count, below.
    const docs = await notificationModel(connection)
      .find({ userId, archivedAt: null, seq: upTo, $or: [{ readAt: null }, { seenAt: null }] }, { _id: 0, readAt: 1, seenAt: 1 })
      .lean();
    return { unread: docs.filter((doc) => !doc.readAt).length, unseen: docs.filter((doc) => !doc.seenAt).length, atSeq };
  }
  const [unread, unseen] = await Promise.all([
    countNotifications(connection, { userId, readAt: null, archivedAt: null, seq: upTo }),
    countNotifications(connection, { userId, seenAt: null, archivedAt: null, seq: upTo }),
  ]);
  return { unread, unseen, atSeq };
}

/**
 * The highest seq stored for each of these users (absent for a user with none).
 *
 * @example
 * const newest = await newestStoredSeqs(connection, ['alice', 'bob']); // Map { 'alice' => 42 }
 */
export async function newestStoredSeqs(connection: Connection, userIds: string[]): Promise<Map<string, number>> {
  const Notification = notificationModel(connection);
  const newest = new Map<string, number>();
  const raise = (userId: string, seq: number) => newest.set(userId, Math.max(newest.get(userId) ?? 0, seq));
  const traits = await databaseTraits(connection);
  if (traits.secondaryIndexes || traits.sortedLimits) {
    // One index probe per user.
    const docs = await Promise.all(userIds.map((userId) => Notification.findOne({ userId }, { seq: 1 }).sort({ seq: -1 }).lean()));
    docs.forEach((doc, i) => doc && raise(userIds[i]!, doc.seq));
  } else {
    // Without secondary indexes every filter reads the collection: read it once for all of them.
    const docs = await Notification.find({ userId: mongoose.trusted({ $in: userIds }) }, { userId: 1, seq: 1 }).lean();
    for (const doc of docs) raise(doc.userId, doc.seq);
  }
  return newest;
}

/**
 * A short window of a user's seqs, read by `_id` where that is cheaper than a range query (on FerretDB,
 * a range evaluates every document of the user; ids follow from (userId, seq)). Undefined where the
 * range query is the cheaper read (MongoDB walks its `(userId, seq)` index; Herald's FerretDB build
 * orders and limits in SQL, which beats three or more lookups): the caller reads the range.
 * `mode` forces one way (tests compare both).
 *
 * @example
 * const docs = (await readSeqWindow(connection, 'alice', [41, 42])) ?? (await readRange());
 */
export async function readSeqWindow(
  connection: Connection,
  userId: string,
  seqs: number[],
  mode: 'auto' | 'range' | 'by-id' = 'auto',
): Promise<NotificationDoc[] | undefined> {
  const traits = await databaseTraits(connection);
  // Herald's build orders and limits a user's range in SQL: one query beats more than two _id lookups.
  const byId = mode === 'by-id' || (mode === 'auto' && !traits.secondaryIndexes && (!traits.sortedLimits || seqs.length <= 2));
  if (!byId) return undefined;
  const Notification = notificationModel(connection);
  const found = await Promise.all(seqs.map((seq) => Notification.findById(notificationId(userId, seq)).lean<NotificationDoc>()));
  return found.filter((doc): doc is NotificationDoc => doc !== null && doc.userId === userId);
}
