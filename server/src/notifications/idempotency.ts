import { createHash } from 'node:crypto';
import { Schema, type Connection, type Model, Types } from 'mongoose';
import { AppError, isDuplicateKey } from '../platform/errors';
import { heraldModel } from '../platform/collections';

interface IdempotencyDoc {
  _id: string;
  requestHash: string;
  state: 'pending' | 'done';
  notificationIds: Types.ObjectId[];
  mutedUserIds: string[];
  createdAt: Date;
}

const schema = new Schema<IdempotencyDoc>(
  {
    _id: { type: String, required: true },
    requestHash: { type: String, required: true },
    state: { type: String, enum: ['pending', 'done'], required: true },
    notificationIds: { type: [Schema.Types.ObjectId], default: [] },
    mutedUserIds: { type: [String], default: [] },
    createdAt: { type: Date, required: true },
  },
  { collection: 'idempotency_keys', versionKey: false, strictQuery: 'throw' },
);
schema.index({ createdAt: 1 });

export function idempotencyModel(connection: Connection): Model<IdempotencyDoc> {
  return heraldModel(connection, 'IdempotencyKey', schema);
}

/** How long a key is remembered. @default 24 hours */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A pending key older than this belongs to a request that died; it may be taken over. */
const ABANDONED_AFTER_MS = 60_000;
const WAIT_STEP_MS = 50;
/** How long a duplicate request waits for the first one to finish. */
const MAX_WAIT_MS = 15_000;

export function requestHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

export type Claim = { kind: 'first' } | { kind: 'replay'; notificationIds: string[]; mutedUserIds: string[] };

/**
 * Idempotency keys for publishing, stored in MongoDB so every gateway
 * instance sees them. A key is claimed by exactly one request (a unique
 * insert); a concurrent or later duplicate waits for it to finish and
 * replays its result; the same key with a different request is a 409.
 * A claim whose request died is taken over after a minute.
 */
export interface IdempotencyStore {
  /** The first request with this key gets `first`; a later one the first one's result (`replay`), or a 409 `conflict`. */
  claim(key: string, hash: string): Promise<Claim>;
  /** The claimed request stored these: later requests with the key replay them. */
  complete(key: string, notificationIds: string[], mutedUserIds: string[]): Promise<void>;
  /** Gives the key back after a failed attempt, so a retry with it can succeed. */
  release(key: string): Promise<void>;
}

export function createIdempotencyStore(connection: Connection): IdempotencyStore {
  const Keys = idempotencyModel(connection);

  async function claim(key: string, hash: string): Promise<Claim> {
    const deadline = Date.now() + MAX_WAIT_MS;
    for (;;) {
      try {
        await Keys.create({ _id: key, requestHash: hash, state: 'pending', createdAt: new Date() });
        return { kind: 'first' };
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const existing = await Keys.findById(key).lean();
      if (!existing) continue; // released by a failed first attempt: try to claim it
      if (existing.requestHash !== hash) {
        throw new AppError('conflict', 'This Idempotency-Key was already used for a different request.');
      }
      if (existing.state === 'done') {
        return {
          kind: 'replay',
          notificationIds: existing.notificationIds.map((id) => id.toHexString()),
          mutedUserIds: existing.mutedUserIds,
        };
      }
      if (Date.now() - existing.createdAt.getTime() > ABANDONED_AFTER_MS) {
        await Keys.deleteOne({ _id: key, state: 'pending', createdAt: existing.createdAt });
        continue;
      }
      if (Date.now() > deadline) {
        throw new AppError('conflict', 'A request with this Idempotency-Key is still in progress; retry shortly.');
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
  }

  async function complete(key: string, notificationIds: string[], mutedUserIds: string[]): Promise<void> {
    await Keys.updateOne(
      { _id: key },
      { $set: { state: 'done', notificationIds: notificationIds.map((id) => new Types.ObjectId(id)), mutedUserIds } },
    );
  }

  async function release(key: string): Promise<void> {
    await Keys.deleteOne({ _id: key, state: 'pending' }).catch(() => undefined);
  }

  return { claim, complete, release };
}
