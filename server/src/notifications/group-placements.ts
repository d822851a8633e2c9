import { Types, type Connection } from 'mongoose';
import type { Notification } from '@herald/shared';
import type { Logger } from '../platform/logger';
import { createGroupStore, placeInGroup } from './notification-groups';
import { notificationId } from './notification-id';
import type { NotificationDoc } from './notification-model';
import type { Slot, StoreRequest } from './store-batch';

/** Where a batch's grouped slots go, and what their stored items replace (see notification-groups). */
export interface GroupPlacements {
  place(batch: StoreRequest[], pending: Slot[], now: Date): Promise<Set<Slot>>;
  retire(slots: Slot[], stored: Notification[][], found: Set<string>): Promise<{ request: number; userId: string; id: string }[]>;
}

export function createGroupPlacements(deps: { connection: Connection; logger: Logger }): GroupPlacements {
  const groups = createGroupStore(deps.connection);
  const log = deps.logger;

  /**
   * Places each grouped slot after its key's newest item (see placeInGroup), one round trip for all,
   * plus one for the holders of slots refused last round. Of several slots of the same user and key,
   * one is placed per round and the others are returned, deferred: an item placed after another
   * still unstored would carry that one's count and actor even if its insert were refused.
   */
  async function place(batch: StoreRequest[], pending: Slot[], now: Date): Promise<Set<Slot>> {
    const deferred = new Set<Slot>();
    const placing = new Set<string>();
    const grouped = pending.filter((slot) => {
      if (!batch[slot.request]!.group) return false;
      const pair = JSON.stringify([slot.userId, batch[slot.request]!.group!.key]);
      if (placing.has(pair)) deferred.add(slot);
      placing.add(pair);
      return !deferred.has(slot);
    });
    if (grouped.length === 0) return deferred;
    const pairs = grouped.map((slot) => ({ userId: slot.userId, key: batch[slot.request]!.group!.key }));
    const taken = grouped.flatMap((slot) => (slot.slotTaken ? [slot.slotTaken] : []));
    const [heads, holders] = await Promise.all([groups.heads(pairs), groups.slotHolders(taken)]);
    const known = [...heads, ...holders.filter((doc) => !heads.some((head) => head._id.equals(doc._id)))];
    for (const slot of grouped) {
      const content = batch[slot.request]!.content;
      const id = notificationId(slot.userId, slot.seq!);
      slot.placement = placeInGroup(
        { userId: slot.userId, id: id.toHexString(), title: content.title, actor: content.actor, spec: batch[slot.request]!.group! },
        known,
        now,
      );
    }
    return deferred;
  }

  /**
   * Retires what the stored grouped items replace or close (see GroupStore.retire). Not fatal: the
   * notifications are stored, and the next item of the key retires whatever is left.
   */
  async function retire(
    slots: Slot[],
    stored: Notification[][],
    found: Set<string>,
  ): Promise<{ request: number; userId: string; id: string }[]> {
    const work = slots.flatMap((slot) => {
      const notification = stored[slot.request]![slot.index];
      if (!slot.placement || !notification) return [];
      const doc = { _id: new Types.ObjectId(notification.id), userId: slot.userId, seq: notification.seq, group: slot.placement.group };
      // A copy an earlier attempt stored (a keyed retry) replaces what it was placed after, in case that
      // attempt stopped before; one that has been replaced itself since retires nothing.
      if (!found.has(notification.id)) return [{ request: slot.request, doc: doc as NotificationDoc, retire: slot.placement.retire }];
      if (slot.foundPrevSeq === undefined) return [];
      return [
        {
          request: slot.request,
          doc: doc as NotificationDoc,
          retire: [{ seq: slot.foundPrevSeq, replace: true, slot: slot.foundPrevSlot }],
        },
      ];
    });
    if (work.length === 0) return [];
    try {
      return (await groups.retire(work)).map(({ userId, id, by }) => ({ request: work[by]!.request, userId, id }));
    } catch (error) {
      log.warn({ err: error, items: work.length }, 'could not retire replaced group items; the next of their keys will');
      return [];
    }
  }

  return { place, retire };
}
