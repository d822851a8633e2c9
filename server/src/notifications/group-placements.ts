import { Types, type Connection } from 'mongoose';
import type { Notification } from '@herald/shared';
import type { Logger } from '../platform/logger';
import { createGroupStore, placeInGroup } from './notification-groups';
import { notificationId } from './notification-id';
import type { NotificationDoc } from './notification-model';
import type { Copy, StoreRequest } from './store-batch';

/** Where a batch's grouped copies go, and what their stored items replace (see notification-groups). */
export interface GroupPlacements {
  place(batch: StoreRequest[], pending: Copy[], now: Date): Promise<Set<Copy>>;
  retire(copies: Copy[], stored: Notification[][], found: Set<string>): Promise<{ request: number; userId: string; id: string }[]>;
}

export function createGroupPlacements(deps: { connection: Connection; logger: Logger }): GroupPlacements {
  const groups = createGroupStore(deps.connection);
  const log = deps.logger;

  /**
   * Places each grouped copy after its key's newest item (see placeInGroup), one round trip for all,
   * plus one for the holders of group slots refused last round. Of several copies of the same user and key,
   * one is placed per round and the others are returned, deferred: an item placed after another
   * still unstored would carry that one's count and actor even if its insert were refused.
   */
  async function place(batch: StoreRequest[], pending: Copy[], now: Date): Promise<Set<Copy>> {
    const deferred = new Set<Copy>();
    const placing = new Set<string>();
    const grouped = pending.filter((copy) => {
      if (!batch[copy.request]!.group) return false;
      const pair = JSON.stringify([copy.userId, batch[copy.request]!.group!.key]);
      if (placing.has(pair)) deferred.add(copy);
      placing.add(pair);
      return !deferred.has(copy);
    });
    if (grouped.length === 0) return deferred;
    const pairs = grouped.map((copy) => ({ userId: copy.userId, key: batch[copy.request]!.group!.key }));
    const taken = grouped.flatMap((copy) => (copy.slotTaken ? [copy.slotTaken] : []));
    const [heads, holders] = await Promise.all([groups.heads(pairs), groups.slotHolders(taken)]);
    const known = [...heads, ...holders.filter((doc) => !heads.some((head) => head._id.equals(doc._id)))];
    for (const copy of grouped) {
      const content = batch[copy.request]!.content;
      const id = notificationId(copy.userId, copy.seq!);
      copy.placement = placeInGroup(
        { userId: copy.userId, id: id.toHexString(), title: content.title, actor: content.actor, spec: batch[copy.request]!.group! },
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
    copies: Copy[],
    stored: Notification[][],
    found: Set<string>,
  ): Promise<{ request: number; userId: string; id: string }[]> {
    const work = copies.flatMap((copy) => {
      const notification = stored[copy.request]![copy.index];
      if (!copy.placement || !notification) return [];
      const doc = { _id: new Types.ObjectId(notification.id), userId: copy.userId, seq: notification.seq, group: copy.placement.group };
      // A copy an earlier attempt stored (a keyed retry) replaces what it was placed after, in case that
      // attempt stopped before; one that has been replaced itself since retires nothing.
      if (!found.has(notification.id)) return [{ request: copy.request, doc: doc as NotificationDoc, retire: copy.placement.retire }];
      if (copy.foundPrevSeq === undefined) return [];
      return [
        {
          request: copy.request,
          doc: doc as NotificationDoc,
          retire: [{ seq: copy.foundPrevSeq, replace: true, copy: copy.foundPrevSlot }],
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
