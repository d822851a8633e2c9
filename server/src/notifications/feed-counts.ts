import type { Connection } from 'mongoose';
import type { FeedCounts } from '@herald/shared';
import { countUnreadAndUnseen, newestStoredSeqs } from '../storage/notification-reads';
import type { SequenceAllocator } from './sequence';

/**
 * A user's counts, stamped with the position they were taken at (see FeedCounts). Counted in the
 * database over the seqs up to that position: a publish never touches them, and a notification above
 * the position is the client's to add, so no count can miss or double one that was being stored.
 */
export interface CountFeed {
  /** At the newest seq handed out to the user (a seq still being stored then is not in them). */
  (userId: string): Promise<FeedCounts>;
  /** At a position the caller read as settled (a sync's `settledSeq`): every seq up to it is in them. */
  at(userId: string, atSeq: number): Promise<FeedCounts>;
}

export function createCountFeed(deps: { connection: Connection; sequences: Pick<SequenceAllocator, 'highest'> }): CountFeed {
  const at = (userId: string, atSeq: number) => countUnreadAndUnseen(deps.connection, userId, atSeq);
  return Object.assign(
    async (userId: string) => {
      // Without Redis's counter, the newest seq stored is the position.
      const highest = (await deps.sequences.highest(userId)) ?? (await newestStoredSeqs(deps.connection, [userId])).get(userId) ?? 0;
      return at(userId, highest);
    },
    { at },
  );
}
