import { Schema, type Connection, type Model, Types } from 'mongoose';

interface CounterDoc {
  _id: Types.ObjectId;
  seq: number;
}

const counterSchema = new Schema<CounterDoc>(
  { _id: { type: Schema.Types.ObjectId, required: true }, seq: { type: Number, required: true } },
  { collection: 'notification_sequences', versionKey: false },
);

function counterModel(connection: Connection): Model<CounterDoc> {
  return (
    (connection.models.NotificationSequence as Model<CounterDoc> | undefined) ??
    connection.model<CounterDoc>('NotificationSequence', counterSchema)
  );
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * Per-user sequence numbers from an `$inc` upsert on a counter document.
 *
 * MongoDB applies `$inc` atomically; FerretDB 1.x does not (concurrent
 * increments can read the same value). So reservations for one user are
 * serialised within this process, and across processes the unique
 * (userId, seq) index on notifications is the final guard: the publisher
 * reserves again for any insert that collides. The counter never moves
 * backwards far, and every retry moves it forward, so a retry soon lands on
 * an unused number.
 */
export function createSequenceAllocator(connection: Connection) {
  const Counter = counterModel(connection);
  const queues = new Map<string, Promise<unknown>>();

  async function increment(userId: string, count: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        const doc = await Counter.findOneAndUpdate(
          { _id: new Types.ObjectId(userId) },
          { $inc: { seq: count } },
          { upsert: true, returnDocument: 'after', lean: true },
        );
        if (!doc) throw new Error('sequence upsert returned nothing');
        return doc.seq - count + 1;
      } catch (error) {
        // Two first-ever upserts for one user race on the counter's _id; the loser simply increments.
        if (!isDuplicateKey(error) || attempt >= 3) throw error;
      }
    }
  }

  /** Reserves `count` numbers for the user and returns the first. */
  return function reserve(userId: string, count = 1): Promise<number> {
    const previous = queues.get(userId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => increment(userId, count));
    queues.set(userId, next);
    void next
      .finally(() => {
        if (queues.get(userId) === next) queues.delete(userId);
      })
      .catch(() => undefined);
    return next;
  };
}
