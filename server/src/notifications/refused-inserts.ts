import { Types, type Connection } from 'mongoose';
import { WHOLE_ANSWER } from '../platform/collections';
import { groupSlotOf } from './notification-groups';
import { notificationModel, type NotificationDoc } from './notification-model';
import { contentOf, type Outcome, type Slot, type StoreRequest } from './store-batch';
import { toNotification } from './to-notification';

/** What a refused insert (a unique index said no) means for each slot of a batch. */
export interface RefusedInserts {
  sort(
    taken: { slot: Slot; doc: NotificationDoc }[],
    batch: StoreRequest[],
    outcome: Outcome,
  ): Promise<{ collided: Slot[]; duplicates: Slot[]; regroup: Slot[] }>;
}

export function createRefusedInserts(connection: Connection): RefusedInserts {
  const Notification = notificationModel(connection);

  /** `userId NUL dedupeKey` of every stored notification holding the key of one of these documents. */
  async function dedupeHolders(docs: NotificationDoc[]): Promise<Set<string>> {
    const byKey = new Map<string, Set<string>>();
    for (const doc of docs)
      if (doc.dedupeKey !== undefined) byKey.set(doc.dedupeKey, (byKey.get(doc.dedupeKey) ?? new Set()).add(doc.userId));
    const holders = new Set<string>();
    // One query per key (a call has one): through the (userId, dedupeKey) index.
    for (const [dedupeKey, users] of byKey) {
      const held = await Notification.collection
        .find({ userId: { $in: [...users] }, dedupeKey }, { projection: { userId: 1 }, ...WHOLE_ANSWER })
        .toArray();
      for (const doc of held) holders.add(`${String(doc.userId)}\u0000${dedupeKey}`);
    }
    return holders;
  }

  /**
   * Sorts the slots whose insert hit a unique index. Those holding their own notification are resolved
   * with it (its id goes to `found`); those whose recipient already has a notification with the call's
   * dedupeKey are deduplicated (returned in `duplicates`: nothing is stored for them); the rest are
   * seq collisions (`collided`: they take a new seq).
   */
  async function sort(
    taken: { slot: Slot; doc: NotificationDoc }[],
    batch: StoreRequest[],
    outcome: Outcome,
  ): Promise<{ collided: Slot[]; duplicates: Slot[]; regroup: Slot[] }> {
    const { stored, found } = outcome;
    // Grouped slots are looked up too: a refused one whose seq is free was refused for its group slot.
    const keyed = taken.filter(({ slot }) => batch[slot.request]!.plan || batch[slot.request]!.onPlan || batch[slot.request]!.group);
    const existing =
      keyed.length === 0
        ? new Map<string, NotificationDoc>()
        : new Map(
            (await Notification.collection.find({ _id: { $in: keyed.map(({ doc }) => doc._id) } }, WHOLE_ANSWER).toArray()).map((doc) => [
              doc._id.toHexString(),
              doc as unknown as NotificationDoc,
            ]),
          );
    const others: { slot: Slot; doc: NotificationDoc }[] = [];
    const folded: { slot: Slot; into: string }[] = [];
    for (const { slot, doc } of taken) {
      const copy = existing.get(doc._id.toHexString());
      const keyedSlot = batch[slot.request]!.plan || batch[slot.request]!.onPlan;
      if (keyedSlot && copy && copy.userId === doc.userId && contentOf(copy) === contentOf(doc)) {
        stored[slot.request]![slot.index] = toNotification(copy);
        found.add(copy._id.toHexString());
        if (copy.group?.prevSeq !== undefined) {
          slot.foundPrevSeq = copy.group.prevSeq;
          // The item it was placed after held the slot before its own.
          slot.foundPrevSlot = groupSlotOf(copy.userId, copy.group.key, copy.group.n - 1);
        }
      } else if (keyedSlot && copy?.supersededBy && copy.userId === doc.userId && copy.groupKey === doc.group?.key) {
        // An earlier attempt stored it and a later notification of its group has replaced it since.
        folded.push({ slot, into: copy.supersededBy });
      } else others.push({ slot, doc });
    }
    if (folded.length > 0) {
      const ids = folded.map(({ into }) => new Types.ObjectId(into));
      const current = new Map(
        (await Notification.collection.find({ _id: { $in: ids } }, WHOLE_ANSWER).toArray()).map((doc) => [doc._id.toHexString(), doc]),
      );
      for (const { slot, into } of folded) {
        const doc = current.get(into) as unknown as NotificationDoc | undefined;
        // The group's item as it is now; gone (replaced again, deleted): nothing to show for it.
        if (doc && !doc.gap && doc.userId === slot.userId) {
          stored[slot.request]![slot.index] = toNotification(doc);
          found.add(into);
        }
      }
    }
    const holders = await dedupeHolders(others.map(({ doc }) => doc));
    const collided: Slot[] = [];
    const duplicates: Slot[] = [];
    const regroup: Slot[] = [];
    for (const { slot, doc } of others) {
      if (doc.dedupeKey !== undefined && holders.has(`${doc.userId}\u0000${doc.dedupeKey}`)) {
        outcome.deduplicated[slot.request]!.add(slot.userId);
        duplicates.push(slot);
      } else if (doc.group && !existing.has(doc._id.toHexString())) regroup.push(slot);
      else collided.push(slot);
    }
    return { collided, duplicates, regroup };
  }

  return { sort };
}
