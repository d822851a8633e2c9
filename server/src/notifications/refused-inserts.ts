import { Types, type Connection } from 'mongoose';
import { WHOLE_ANSWER } from '../platform/collections';
import { keyConflict, relation } from './idempotency';
import { groupSlotOf } from './notification-groups';
import { notificationModel, type NotificationDoc } from './notification-model';
import type { Outcome, Copy, StoreRequest } from './store-batch';
import { toNotification } from './to-notification';

/** What the refused inserts of a round mean for their copies (see RefusedInserts.sort). */
export interface Refusals {
  /** Their seq was taken (another instance raced): a new seq, and insert again. */
  collided: Copy[];
  /** Their key is held: their seqs will hold nothing (known gaps). */
  keyHeld: Copy[];
  /** Grouped, their group's next slot was taken by another publisher: placed again, with the same seq. */
  regroup: Copy[];
}

/** What a refused insert (a unique index said no) means for each copy of a batch. */
export interface RefusedInserts {
  sort(taken: { copy: Copy; doc: NotificationDoc }[], batch: StoreRequest[], outcome: Outcome): Promise<Refusals>;
}

const pair = (userId: string, key: string) => `${userId}\u0000${key}`;

export function createRefusedInserts(connection: Connection): RefusedInserts {
  const Notification = notificationModel(connection);

  /** The copies holding the keys of these documents, by `userId NUL key`: one query, through KEY_INDEX. */
  async function holders(docs: NotificationDoc[]): Promise<Map<string, NotificationDoc>> {
    const keyed = docs.filter((doc) => doc.key !== undefined);
    if (keyed.length === 0) return new Map();
    const found = await Notification.collection
      .find(
        { userId: { $in: [...new Set(keyed.map((doc) => doc.userId))] }, key: { $in: [...new Set(keyed.map((doc) => doc.key!))] } },
        WHOLE_ANSWER,
      )
      .toArray();
    return new Map(found.map((doc) => [pair(String(doc.userId), String(doc.key)), doc as unknown as NotificationDoc]));
  }

  /** Which of these grouped documents' `_id`s (their seqs) are stored: the others were refused for their group slot. */
  async function seqsTaken(docs: NotificationDoc[]): Promise<Set<string>> {
    const grouped = docs.filter((doc) => doc.group);
    if (grouped.length === 0) return new Set();
    const found = await Notification.collection
      .find({ _id: { $in: grouped.map((doc) => doc._id) } }, { projection: { _id: 1 }, ...WHOLE_ANSWER })
      .toArray();
    return new Set(found.map((doc) => doc._id.toHexString()));
  }

  /**
   * Sorts the copies whose insert hit a unique index, by the copy holding their key, if any: their
   * request's own (stored by an earlier attempt: it is the answer, its id goes to `found`; if it has
   * been replaced in its group since, the group's item now is), another's (deduplicated), or the same
   * Idempotency-Key's with another body (the request fails with a 409). Without a holder, the seq
   * was taken, or for a grouped item its group's next slot.
   */
  async function sort(taken: { copy: Copy; doc: NotificationDoc }[], batch: StoreRequest[], outcome: Outcome): Promise<Refusals> {
    const docs = taken.map(({ doc }) => doc);
    const [byKey, stored] = await Promise.all([holders(docs), seqsTaken(docs)]);
    const refusals: Refusals = { collided: [], keyHeld: [], regroup: [] };
    const folded: { copy: Copy; into: string }[] = [];
    for (const { copy, doc } of taken) {
      const holder = doc.key === undefined ? undefined : byKey.get(pair(doc.userId, doc.key));
      if (!holder) {
        if (doc.group && !stored.has(doc._id.toHexString())) refusals.regroup.push(copy);
        else refusals.collided.push(copy);
        continue;
      }
      refusals.keyHeld.push(copy);
      const kind = relation(holder, batch[copy.request]!.keys);
      if (kind === 'conflict') outcome.failed.set(copy.request, keyConflict());
      else if (kind === 'other') outcome.deduplicated[copy.request]!.add(copy.userId);
      else {
        outcome.own[copy.request]!++;
        if (!holder.gap) {
          outcome.stored[copy.request]![copy.index] = toNotification(holder);
          outcome.found.add(holder._id.toHexString());
          if (holder.group?.prevSeq !== undefined) {
            // In case the earlier attempt stopped before retiring the item its copy replaced.
            copy.foundPrevSeq = holder.group.prevSeq;
            copy.foundPrevSlot = groupSlotOf(holder.userId, holder.group.key, holder.group.n - 1);
          }
        } else if (holder.supersededBy) folded.push({ copy, into: holder.supersededBy });
        // Else its copy was deleted since: nothing to show, and nothing stored again.
      }
    }
    if (folded.length > 0) {
      const ids = folded.map(({ into }) => new Types.ObjectId(into));
      const current = new Map(
        (await Notification.collection.find({ _id: { $in: ids } }, WHOLE_ANSWER).toArray()).map((doc) => [doc._id.toHexString(), doc]),
      );
      for (const { copy, into } of folded) {
        const doc = current.get(into) as unknown as NotificationDoc | undefined;
        // The group's item as it is now; gone (replaced again, deleted): nothing to show for it.
        if (doc && !doc.gap && doc.userId === copy.userId) {
          outcome.stored[copy.request]![copy.index] = toNotification(doc);
          outcome.found.add(into);
        }
      }
    }
    return refusals;
  }

  return { sort };
}
