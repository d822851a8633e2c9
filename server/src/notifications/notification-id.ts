import { createHash } from 'node:crypto';
import { Types } from 'mongoose';

/**
 * A notification's `_id` follows from its owner and seq (12 bytes of a SHA-256),
 * so catch-up can fetch "seq 41 to 50 of this user" by `_id`, the one lookup
 * every MongoDB-wire server indexes, and a seq taken twice collides on `_id`
 * as well as on the unique (userId, seq) index. Every query is scoped to the
 * owner, so an id that can be computed reveals nothing.
 */
export function notificationId(userId: string, seq: number): Types.ObjectId {
  // Not lowercased: user ids are case-sensitive. Ids stored before they were (ObjectId hex, always
  // lowercase) hash exactly as they did then.
  const digest = createHash('sha256').update(`herald:${userId}:${seq}`).digest();
  return new Types.ObjectId(digest.subarray(0, 12));
}
