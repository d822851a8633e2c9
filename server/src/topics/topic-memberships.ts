import mongoose, { type Model } from 'mongoose';
import { isDuplicateKey } from '../platform/errors';
import type { TopicMemberDoc } from './topic-model';

/** One (topic, user) as stored: a member or not, and the version every change moves (null: never stored). */
export interface MembershipState {
  member: boolean;
  version: number | null;
}

/**
 * Reads and writes of one (topic, user) membership, compare-and-set on its version, so a subscribe
 * decided before a removal cannot undo it.
 */
export function membershipStore(TopicMember: Model<TopicMemberDoc>) {
  /** One (topic, user) as stored: a member or not, and the version every change moves. */
  async function readMembership(topic: string, userId: string): Promise<MembershipState> {
    const doc = await TopicMember.findById(`${topic}|${userId}`).lean();
    return doc ? { member: doc.member !== false, version: doc.version ?? 0 } : { member: false, version: null };
  }

  /**
   * Writes membership if the (topic, user) is still at the version it was read at: 'moved' when
   * another change landed in between (the caller decides again), so a subscribe decided before a
   * removal cannot undo it. Removed members keep their document (member: false) for that reason.
   */
  async function writeMembership(
    topic: string,
    userId: string,
    member: boolean,
    seen: MembershipState,
  ): Promise<'changed' | 'unchanged' | 'moved'> {
    if (seen.member === member) return 'unchanged';
    const _id = `${topic}|${userId}`;
    if (seen.version === null) {
      try {
        await TopicMember.create({ _id, topic, userId, joinedAt: new Date(), member, version: 1 });
        return 'changed';
      } catch (error) {
        if (isDuplicateKey(error)) return 'moved';
        throw error;
      }
    }
    const atVersion = seen.version === 0 ? { version: mongoose.trusted({ $exists: false }) } : { version: seen.version };
    const result = await TopicMember.updateOne(
      { _id, ...atVersion },
      { $set: { member, version: seen.version + 1, ...(member ? { joinedAt: new Date() } : {}) } },
    );
    return result.modifiedCount === 1 ? 'changed' : 'moved';
  }
  return { read: readMembership, write: writeMembership };
}
