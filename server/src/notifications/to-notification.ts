import { MAX_GROUP_ACTORS_SHOWN, splitFeedKey, type JsonObject, type Notification } from '@herald/shared';
import type { NotificationDoc } from './notification-model';

/** The client-facing shape of a stored notification: string ids, ISO dates, unset states absent. */
export function toNotification(doc: NotificationDoc): Notification {
  // Stored by feed key (`<tenant>/<userId>`, or the user id for the default feed); shown as user and tenant.
  const { tenant, userId } = splitFeedKey(doc.userId);
  const n: Notification = {
    id: doc._id.toHexString(),
    userId,
    ...(tenant ? { tenant } : {}),
    seq: doc.seq,
    type: doc.type,
    title: doc.title,
    createdAt: doc.createdAt.toISOString(),
  };
  if (doc.body !== undefined && doc.body !== null) n.body = doc.body;
  if (doc.actionUrl) n.actionUrl = doc.actionUrl;
  if (doc.actor) n.actor = { id: doc.actor.id, name: doc.actor.name };
  if (doc.data !== undefined && doc.data !== null) n.data = doc.data as JsonObject;
  if (doc.category) n.category = doc.category;
  if (doc.tags && doc.tags.length > 0) n.tags = [...doc.tags];
  if (doc.actions && doc.actions.length > 0) {
    n.actions = doc.actions.map((a) => ({ id: a.id, label: a.label, ...(a.url ? { url: a.url } : {}) }));
  }
  if (doc.interactedAt) n.interactedAt = doc.interactedAt.toISOString();
  if (doc.actionId) n.actionId = doc.actionId;
  if (doc.readAt) n.readAt = doc.readAt.toISOString();
  if (doc.seenAt) n.seenAt = doc.seenAt.toISOString();
  if (doc.archivedAt) n.archivedAt = doc.archivedAt.toISOString();
  if (doc.expiresAt) n.expiresAt = doc.expiresAt.toISOString();
  if (doc.group) {
    const { id, key, count, actorCount, actors } = doc.group;
    n.group = { id, key, count, actorCount, actors: actors.slice(0, MAX_GROUP_ACTORS_SHOWN).map((a) => ({ id: a.id, name: a.name })) };
  }
  return n;
}
