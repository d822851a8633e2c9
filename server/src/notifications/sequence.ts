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

/**
 * Per-user sequence numbers from one atomic `$inc` upsert per user.
 * Reserves `count` numbers and returns the first; numbers only grow. A reserved
 * number whose insert then fails leaves a hole, which clients treat as nothing
 * missing once a sync has come back without it.
 */
export function createSequenceAllocator(connection: Connection) {
  const Counter = counterModel(connection);
  return async function reserve(userId: string, count = 1): Promise<number> {
    const doc = await Counter.findOneAndUpdate(
      { _id: new Types.ObjectId(userId) },
      { $inc: { seq: count } },
      { upsert: true, returnDocument: 'after', lean: true },
    );
    if (!doc) throw new Error('sequence upsert returned nothing');
    return doc.seq - count + 1;
  };
}
