import type { Connection, mongo } from 'mongoose';
import { MAX_TITLE_LENGTH, type Actor } from '@herald/shared';
import { WHOLE_ANSWER } from '../platform/collections';
import { notificationId } from './notification-id';
import { notificationModel, toGap, type GroupState, type NotificationDoc } from './notification-model';

/** A publish's `group`, validated. */
export interface GroupSpec {
  key: string;
  windowSeconds: number;
  title?: { one: string; other: string } | undefined;
}

/** Different actors a group remembers (newest first); `actorCount` is exact while a group has at most this many. */
export const MAX_GROUP_ACTORS_KEPT = 20;

/** `groupHead` of a (user, key): JSON, so no user id or key can make two pairs look alike. */
export function groupHeadOf(userId: string, key: string): string {
  return JSON.stringify([userId, key]);
}

export function groupSlotOf(userId: string, key: string, n: number): string {
  return JSON.stringify([userId, key, n]);
}

/**
 * Where a new notification of a group key goes: into the key's newest item's group (within the window:
 * the count and actors carry on, the item replaces that one) or a new group. `retire` lists the key's
 * older items to take out of the way once this one is stored: replaced (same group) or closed.
 */
export interface GroupPlacement {
  group: GroupState;
  title: string;
  groupHead: string;
  groupSlot: string;
  retire: RetireItem[];
}

/**
 * An item to take out of the way once the new one is stored: replaced (same group: it becomes a known
 * gap) or closed (an earlier group). `slot` is its `groupSlot`: the item keeps it either way, so a
 * publisher that read the key's items before this one was stored is still refused that slot.
 */
export interface RetireItem {
  seq: number;
  replace: boolean;
  slot?: string | undefined;
}

/** The title a group shows: the template chosen by how many other actors there are, else the member's own. */
function groupTitle(spec: GroupSpec, group: GroupState): string {
  if (!spec.title || group.actorCount < 2 || group.actors.length === 0) return group.memberTitle;
  const others = group.actorCount - 1;
  const template = others === 1 ? spec.title.one : spec.title.other;
  const values: Record<string, string> = { actor: group.actors[0]!.name, others: String(others), count: String(group.count) };
  return template.replace(/\{(actor|others|count)\}/g, (_, name: string) => values[name]!).slice(0, MAX_TITLE_LENGTH);
}

/**
 * Places a notification of `spec.key` for `userId`, stored with `seq` (and so `id`), after `heads`: the
 * key's newest items as read (normally one; more after a publisher stopped between storing an item and
 * retiring the one before). A stale read is safe: the item takes the slot after the newest it saw, and
 * the unique slot refuses it if another publisher took that slot first (then it is placed again).
 */
export function placeInGroup(
  request: { userId: string; id: string; title: string; actor?: Actor | undefined; spec: GroupSpec },
  heads: NotificationDoc[],
  now: Date,
): GroupPlacement {
  const { userId, spec, actor } = request;
  const head = groupHeadOf(userId, spec.key);
  const mine = heads.filter((doc) => doc.userId === userId && doc.groupHead === head && doc.group).sort((a, b) => b.group!.n - a.group!.n);
  const latest = mine[0]?.group;
  const n = (latest?.n ?? 0) + 1;
  let group: GroupState;
  // A deleted newest item (a known gap that kept its place, see removeIds) closes its group.
  if (latest && !mine[0]!.gap && now.getTime() - latest.startedAt.getTime() < spec.windowSeconds * 1000) {
    const known = actor !== undefined && latest.actors.some((a) => a.id === actor.id);
    group = {
      id: latest.id,
      key: spec.key,
      count: latest.count + 1,
      actorCount: latest.actorCount + (actor && !known ? 1 : 0),
      actors: actor
        ? [{ id: actor.id, name: actor.name }, ...latest.actors.filter((a) => a.id !== actor.id)].slice(0, MAX_GROUP_ACTORS_KEPT)
        : latest.actors,
      startedAt: latest.startedAt,
      n,
      memberTitle: request.title,
      prevSeq: mine[0]!.seq,
    };
  } else {
    group = {
      id: request.id,
      key: spec.key,
      count: 1,
      actorCount: actor ? 1 : 0,
      actors: actor ? [{ id: actor.id, name: actor.name }] : [],
      startedAt: now,
      n,
      memberTitle: request.title,
    };
  }
  return {
    group,
    title: groupTitle(spec, group),
    groupHead: head,
    groupSlot: groupSlotOf(userId, spec.key, n),
    retire: mine.map((doc) => ({ seq: doc.seq, replace: !doc.gap && doc.group!.id === group.id, slot: doc.groupSlot })),
  };
}

/**
 * Reads and retires groups' items. Reads go by `groupHead` (indexed on every MongoDB-wire server Herald
 * supports); retiring is one bulk write, each statement conditional on the item still being its key's
 * newest, so a retry or a second publisher retiring the same item changes nothing twice.
 */
export function createGroupStore(connection: Connection) {
  const Notification = notificationModel(connection);

  return {
    /** The newest items of these (user, key) pairs. */
    async heads(pairs: { userId: string; key: string }[]): Promise<NotificationDoc[]> {
      if (pairs.length === 0) return [];
      const heads = [...new Set(pairs.map((p) => groupHeadOf(p.userId, p.key)))];
      return (await Notification.collection.find({ groupHead: { $in: heads } }, WHOLE_ANSWER).toArray()) as unknown as NotificationDoc[];
    },

    /** The item holding a slot (after an insert was refused for it), if it is still there. */
    async slotHolders(slots: string[]): Promise<NotificationDoc[]> {
      if (slots.length === 0) return [];
      return (await Notification.collection.find({ groupSlot: { $in: slots } }, WHOLE_ANSWER).toArray()) as unknown as NotificationDoc[];
    },

    /**
     * Once `stored` is in: the items it replaces become known gaps that name it (so sync skips them
     * and a keyed retry knows its notification went into the group), and earlier groups' items it
     * closes stop being their key's newest. Returns the ids of the replaced items, with the index in
     * `stored` of the item that replaced each.
     */
    async retire(stored: { doc: NotificationDoc; retire: RetireItem[] }[]): Promise<{ userId: string; id: string; by: number }[]> {
      const ops: mongo.AnyBulkWriteOperation[] = [];
      const replaced: { userId: string; id: string; by: number }[] = [];
      const now = new Date();
      for (const [by, { doc, retire }] of stored.entries()) {
        for (const { seq, replace, slot } of retire) {
          if (seq === doc.seq) continue;
          const _id = notificationId(doc.userId, seq);
          // By key, not by doc.groupHead: a found copy (a keyed retry) may have been closed since.
          const filter = { _id, groupHead: groupHeadOf(doc.userId, doc.group!.key) };
          if (replace) {
            // The slot stays taken: a publisher that read this item as the newest must not store after it now.
            const update = toGap(now, {
              supersededBy: doc._id.toHexString(),
              groupKey: doc.group!.key,
              ...(slot ? { groupSlot: slot } : {}),
            });
            ops.push({ updateOne: { filter, update } });
            replaced.push({ userId: doc.userId, id: _id.toHexString(), by });
          } else {
            ops.push({ updateOne: { filter, update: { $unset: { groupHead: '' } } } });
          }
        }
      }
      // Small batches: FerretDB 1.x stalls on update commands carrying about a hundred statements.
      for (let i = 0; i < ops.length; i += 50) await Notification.collection.bulkWrite(ops.slice(i, i + 50), { ordered: false });
      return replaced;
    },
  };
}

export type GroupStore = ReturnType<typeof createGroupStore>;
