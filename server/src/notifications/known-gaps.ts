import mongoose, { type Connection } from 'mongoose';
import { isDuplicateKey } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { notificationId } from './notification-id';
import { gapDocument, notificationModel, type NotificationDoc } from './notification-model';

/**
 * Known gaps: seqs of a user's log that hold no notification and never will. A gap is a document at
 * the seq's own `_id` (see gapDocument), so a sync reads it like any other seq and settles past it at
 * once, and an insert that comes for that seq later collides with it. Written from here:
 *
 * - `refused`: seqs the writer handed out whose notification will never be stored (the database
 *   refused the insert, the recipient's key was already held: a dedupeKey, or a keyed retry's own copy). Best
 *   effort: one not written is given up on by a sync later.
 * - `withdraw`: copies stored by a call that then failed as a whole (its Idempotency-Key was used
 *   for another body: a 409 promises nothing stored), before anyone was told of them.
 * - `giveUp`: seqs a sync found still empty after GAP_AFTER_MS (see catch-up): their publisher died or
 *   is stuck. Where the write collides, the notification landed meanwhile, and is returned instead.
 *
 * Removed notifications (a delete, a grouped item replaced by a newer one) keep their place as gaps
 * too: notification-feed and notification-groups replace them with this same document.
 */
export interface KnownGaps {
  refused(seqs: { userId: string; seq: number }[]): Promise<void>;
  withdraw(copies: { id: string; userId: string; seq: number }[]): Promise<void>;
  giveUp(userId: string, seqs: number[]): Promise<{ gaps: number[]; landed: NotificationDoc[] }>;
}

/** `logger`: where a `refused` write that failed is noted (at debug), and a `withdraw` that failed (at warn). */
export function createKnownGaps(connection: Connection, logger?: Logger): KnownGaps {
  const Notification = notificationModel(connection);
  return {
    async refused(seqs) {
      if (seqs.length === 0) return;
      const now = new Date();
      await Notification.collection
        .insertMany(
          seqs.map(({ userId, seq }) => gapDocument(userId, seq, notificationId(userId, seq), now)),
          { ordered: false },
        )
        .catch((error: unknown) => logger?.debug({ err: error, seqs: seqs.length }, 'could not record known gaps'));
    },

    async withdraw(copies) {
      const now = new Date();
      const ops = copies.map(({ id, userId, seq }) => {
        const { _id, ...gap } = gapDocument(userId, seq, new mongoose.Types.ObjectId(id), now);
        return { replaceOne: { filter: { _id, userId }, replacement: gap } };
      });
      try {
        // Small batches: FerretDB 1.x stalls on update commands carrying about a hundred statements.
        for (let i = 0; i < ops.length; i += 50) await Notification.collection.bulkWrite(ops.slice(i, i + 50), { ordered: false });
      } catch (error) {
        logger?.warn({ err: error, copies: copies.length }, 'could not withdraw the copies of a conflicting request');
      }
    },

    async giveUp(userId, seqs) {
      if (seqs.length === 0) return { gaps: [], landed: [] };
      const written = new Date();
      let collided: number[] = [];
      try {
        await Notification.collection.insertMany(
          seqs.map((seq) => gapDocument(userId, seq, notificationId(userId, seq), written)),
          { ordered: false },
        );
      } catch (error) {
        if (!(error instanceof mongoose.mongo.MongoBulkWriteError)) throw error;
        const failures = [error.writeErrors].flat();
        if (failures.length === 0 || !failures.every(isDuplicateKey)) throw error;
        collided = failures.map((failure) => seqs[failure.index]!);
      }
      const landed = collided.length
        ? (await Notification.find({ _id: mongoose.trusted({ $in: collided.map((seq) => notificationId(userId, seq)) }) }).lean()).filter(
            (doc) => doc.userId === userId,
          )
        : [];
      return { gaps: seqs.filter((seq) => !collided.includes(seq)), landed };
    },
  };
}
