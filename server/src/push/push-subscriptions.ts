import { createHash } from 'node:crypto';
import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { MAX_PUSH_SUBSCRIPTIONS_PER_USER } from '@herald/shared';
import { heraldModel } from '../platform/collections';

/** One browser's push subscription, held by the user who registered it last. */
export interface PushSubscriptionDoc {
  /** The endpoint's SHA-256 (hex): one document per endpoint, whoever registers it. */
  _id: string;
  userId: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  createdAt: Date;
}

const schema = new Schema<PushSubscriptionDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    endpoint: { type: String, required: true },
    keys: { type: new Schema({ p256dh: String, auth: String }, { _id: false }), required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'push_subscriptions', versionKey: false, strictQuery: 'throw' },
);
schema.index({ userId: 1 });

export function pushSubscriptionModel(connection: Connection): Model<PushSubscriptionDoc> {
  return heraldModel(connection, 'PushSubscription', schema);
}

const endpointId = (endpoint: string) => createHash('sha256').update(endpoint).digest('hex');

/** A subscription as the push stage sends to it. */
export type PushTarget = Pick<PushSubscriptionDoc, 'userId' | 'endpoint' | 'keys'>;

/**
 * Users' push subscriptions. An endpoint belongs to one browser profile, so registering it again (the
 * same browser, perhaps another user signed in now) moves it to the caller; a user keeps their
 * MAX_PUSH_SUBSCRIPTIONS_PER_USER newest.
 */
export interface PushSubscriptions {
  add(userId: string, subscription: PushTarget['keys'] & { endpoint: string }): Promise<void>;
  /** Removes the caller's subscription at this endpoint; false when they have none there. */
  remove(userId: string, endpoint: string): Promise<boolean>;
  /** Every subscription of these users. */
  of(userIds: string[]): Promise<PushTarget[]>;
  /** The push service said the endpoint is gone (404/410): whoever holds it loses it. */
  gone(endpoint: string): Promise<void>;
}

export function createPushSubscriptions(connection: Connection): PushSubscriptions {
  const Subscriptions = pushSubscriptionModel(connection);
  return {
    async add(userId, { endpoint, p256dh, auth }) {
      const _id = endpointId(endpoint);
      await Subscriptions.updateOne(
        { _id },
        { $set: { userId, endpoint, keys: { p256dh, auth }, createdAt: new Date() } },
        { upsert: true },
      );
      // Past the cap, the oldest go (a bounded read: the cap plus the one just added).
      const held = await Subscriptions.find({ userId }, { _id: 1, createdAt: 1 })
        .sort({ createdAt: -1 })
        .limit(MAX_PUSH_SUBSCRIPTIONS_PER_USER + 50)
        .lean();
      const over = held.slice(MAX_PUSH_SUBSCRIPTIONS_PER_USER).map((doc) => doc._id);
      if (over.length > 0) await Subscriptions.deleteMany({ _id: mongoose.trusted({ $in: over }), userId });
    },
    async remove(userId, endpoint) {
      const { deletedCount } = await Subscriptions.deleteOne({ _id: endpointId(endpoint), userId });
      return deletedCount > 0;
    },
    async of(userIds) {
      if (userIds.length === 0) return [];
      return Subscriptions.find({ userId: mongoose.trusted({ $in: userIds }) }, { _id: 0, userId: 1, endpoint: 1, keys: 1 }).lean();
    },
    async gone(endpoint) {
      await Subscriptions.deleteOne({ _id: endpointId(endpoint) });
    },
  };
}
