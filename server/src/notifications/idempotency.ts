import { createHash } from 'node:crypto';
import { Schema, type Connection, type Model, Types } from 'mongoose';
import { AppError, isDuplicateKey } from '../platform/errors';
import { heraldModel } from '../platform/collections';

/**
 * Which seq each recipient's notification has, fixed before the first insert of a keyed request: every
 * later attempt with the key inserts exactly these (userId, seq), so their `_id`s are the same, and a
 * copy an earlier attempt left behind collides instead of standing beside a second one.
 */
export interface PublishPlan {
  recipients: { userId: string; seq: number }[];
  mutedUserIds: string[];
}

interface IdempotencyDoc {
  _id: string;
  requestHash: string;
  /** pending: an attempt is running; retry: the last attempt failed, the next may take over; done. */
  state: 'pending' | 'retry' | 'done';
  notificationIds: Types.ObjectId[];
  mutedUserIds: string[];
  deduplicatedUserIds?: string[];
  plan?: PublishPlan | null;
  createdAt: Date;
  /** The UTC day of createdAt (`2026-11-26`): expiry deletes whole days, by an equality on an index. */
  day?: string;
  /** When the running attempt claimed the key (takeover after ABANDONED_AFTER_MS). */
  claimedAt: Date;
}

const planSchema = new Schema<PublishPlan>(
  {
    recipients: { type: [new Schema({ userId: String, seq: Number }, { _id: false })], default: [] },
    mutedUserIds: { type: [String], default: [] },
  },
  { _id: false },
);

const schema = new Schema<IdempotencyDoc>(
  {
    _id: { type: String, required: true },
    requestHash: { type: String, required: true },
    state: { type: String, enum: ['pending', 'retry', 'done'], required: true },
    notificationIds: { type: [Schema.Types.ObjectId], default: [] },
    mutedUserIds: { type: [String], default: [] },
    deduplicatedUserIds: { type: [String], default: [] },
    plan: { type: planSchema, default: null },
    createdAt: { type: Date, required: true },
    day: { type: String },
    claimedAt: { type: Date, required: true },
  },
  { collection: 'idempotency_keys', versionKey: false, strictQuery: 'throw' },
);
schema.index({ day: 1 });

/** The UTC day of a time, as idempotency keys record it. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Days of keys kept before the current one: keys of a day are deleted once the whole day is 24 hours old. */
const DAYS_LOOKED_BACK = 60;

/**
 * The days whose keys have all passed IDEMPOTENCY_TTL_MS: from the day before yesterday back
 * DAYS_LOOKED_BACK days (keys older than that are left, should no sweep have run for so long).
 */
export function expiredKeyDays(now: Date): string[] {
  return Array.from({ length: DAYS_LOOKED_BACK }, (_, i) => utcDay(new Date(now.getTime() - (i + 2) * 24 * 3600 * 1000)));
}

export function idempotencyModel(connection: Connection): Model<IdempotencyDoc> {
  return heraldModel(connection, 'IdempotencyKey', schema);
}

/** How long a key is remembered at least (up to a day more: see expiredKeyDays). @default 24 hours */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/**
 * A pending key claimed longer ago than this is taken over by the next attempt: its caller had a 503
 * long ago. Taking over is safe at any time (the plan is read and the claim moved in one update, and
 * an attempt only inserts after recording its plan under its own claim), so this is only about not
 * doing the same work twice at once.
 */
const ABANDONED_AFTER_MS = 15_000;
const WAIT_STEP_MS = 50;
/** How long a duplicate request waits for the first one to finish. */
const MAX_WAIT_MS = 15_000;

export function requestHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * JSON with every object's keys in sorted order, so the same request sent with its keys in another
 * order (as JSON libraries and hand-written bodies do) hashes the same.
 */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The answer to an Idempotency-Key already used for a different request (a publish, or a scheduled send). */
export function keyConflict(): AppError {
  return new AppError('conflict', 'This Idempotency-Key was already used for a different request.');
}

/** What a done attempt recorded, for replaying its answer. */
export interface Completed {
  notificationIds: string[];
  mutedUserIds: string[];
  deduplicatedUserIds: string[];
}

export type Claim = { kind: 'first'; plan: PublishPlan | null; claimedAt: Date } | ({ kind: 'replay' } & Completed);

/**
 * Idempotency keys for publishing, stored in MongoDB so every gateway
 * instance sees them. A key is claimed by exactly one attempt at a time (a
 * unique insert, or a conditional takeover); a concurrent or later duplicate
 * waits for it to finish and replays its result; the same key with a
 * different request is a 409. A failed attempt leaves the key for the next
 * one (`retry`) with its plan, and an attempt that died is taken over after a
 * minute, plan and all: a key never yields two copies for a recipient,
 * whenever the database applies a write it was sent.
 */
export interface IdempotencyStore {
  /**
   * `first` (with the plan of an earlier attempt, if any) for the attempt that holds the key; else a
   * replay or a 409.
   */
  claim(key: string, hash: string): Promise<Claim>;
  /** Records the plan before anything is inserted; refuses (409) when another attempt has taken the key over. */
  plan(key: string, claimedAt: Date, plan: PublishPlan): Promise<void>;
  /** The attempt stored these: later requests with the key replay them. */
  complete(key: string, completed: Completed): Promise<void>;
  /** The attempt failed: the next attempt with the key takes over at once, with the plan. */
  fail(key: string, claimedAt: Date): Promise<void>;
}

export function createIdempotencyStore(connection: Connection): IdempotencyStore {
  const Keys = idempotencyModel(connection);

  /**
   * Takes a key over from a failed or dead attempt, and reads its plan in the same update (a plan the
   * old attempt records afterwards is refused: its claim is gone). Null when another attempt got there first.
   */
  async function takeOver(existing: IdempotencyDoc): Promise<Claim | null> {
    const claimedAt = new Date();
    const taken = await Keys.findOneAndUpdate(
      // Keys written before claimedAt existed have none: null matches a missing field.
      { _id: existing._id, state: existing.state, claimedAt: existing.claimedAt ?? null },
      { $set: { state: 'pending', claimedAt } },
      { returnDocument: 'after' },
    ).lean();
    return taken ? { kind: 'first', plan: taken.plan ?? null, claimedAt } : null;
  }

  async function claim(key: string, hash: string): Promise<Claim> {
    const deadline = Date.now() + MAX_WAIT_MS;
    for (;;) {
      try {
        const now = new Date();
        await Keys.create({ _id: key, requestHash: hash, state: 'pending', createdAt: now, day: utcDay(now), claimedAt: now });
        return { kind: 'first', plan: null, claimedAt: now };
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const existing = await Keys.findById(key).lean();
      if (!existing) continue; // expired meanwhile: try to claim it
      if (existing.requestHash !== hash) {
        throw keyConflict();
      }
      if (existing.state === 'done') {
        return {
          kind: 'replay',
          notificationIds: existing.notificationIds.map((id) => id.toHexString()),
          mutedUserIds: existing.mutedUserIds,
          deduplicatedUserIds: existing.deduplicatedUserIds ?? [],
        };
      }
      const abandoned =
        existing.state === 'pending' && Date.now() - (existing.claimedAt ?? existing.createdAt).getTime() > ABANDONED_AFTER_MS;
      if (existing.state === 'retry' || abandoned) {
        const taken = await takeOver(existing);
        if (taken) return taken;
        continue;
      }
      if (Date.now() > deadline) {
        throw new AppError('conflict', 'A request with this Idempotency-Key is still in progress; retry shortly.');
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
  }

  async function plan(key: string, claimedAt: Date, publishPlan: PublishPlan): Promise<void> {
    const recorded = await Keys.updateOne({ _id: key, state: 'pending', claimedAt }, { $set: { plan: publishPlan } });
    if (recorded.matchedCount !== 1) {
      throw new AppError('conflict', 'Another attempt with this Idempotency-Key took it over; retry shortly.');
    }
  }

  async function complete(key: string, { notificationIds, mutedUserIds, deduplicatedUserIds }: Completed): Promise<void> {
    await Keys.updateOne(
      { _id: key },
      { $set: { state: 'done', notificationIds: notificationIds.map((id) => new Types.ObjectId(id)), mutedUserIds, deduplicatedUserIds } },
    );
  }

  async function fail(key: string, claimedAt: Date): Promise<void> {
    await Keys.updateOne({ _id: key, state: 'pending', claimedAt }, { $set: { state: 'retry' } }).catch(() => undefined);
  }

  return { claim, plan, complete, fail };
}
