import mongoose from 'mongoose';
import { createCountFeed } from '../src/notifications/feed-counts';
import { databaseTraits } from '../src/storage/database-traits';
import { useTestStack } from './support/stack';

describe('counting unread and unseen in the database', () => {
  const stack = useTestStack({ instances: 0 });

  it('gives what two counts give, over every combination of read, seen and archived', async () => {
    const userId = 'counts-user';
    const at = new Date();
    const states = [
      { readAt: null, seenAt: null, archivedAt: null },
      { readAt: null, seenAt: at, archivedAt: null },
      { readAt: at, seenAt: at, archivedAt: null },
      // Written before seenAt existed: read, never marked seen.
      { readAt: at, seenAt: null, archivedAt: null },
      { readAt: null, seenAt: null, archivedAt: at },
      { readAt: at, seenAt: null, archivedAt: at },
    ];
    const docs = [...states, ...states.slice(0, 2), states[0]!].map((state, seq) => ({
      _id: new mongoose.Types.ObjectId(),
      userId,
      seq: seq + 1,
      type: 'a.b',
      title: `n${seq}`,
      createdAt: at,
      ...state,
    }));
    const other = { ...docs[0]!, _id: new mongoose.Types.ObjectId(), userId: 'someone-else' };
    await stack.inspector.collection('notifications').insertMany([...docs, other]);

    const collection = stack.inspector.collection('notifications');
    const expected = {
      unread: await collection.countDocuments({ userId, readAt: null, archivedAt: null }),
      unseen: await collection.countDocuments({ userId, seenAt: null, archivedAt: null }),
    };
    expect(expected).toEqual({ unread: 5, unseen: 4 });
    // Without a counter in Redis, the position is the newest seq stored.
    const counts = createCountFeed({ connection: stack.inspector, sequences: { highest: async () => null } });
    expect(await counts(userId)).toEqual({ ...expected, atSeq: 9 });
    // At a position: nothing above it, whatever its state.
    const atSeven = {
      unread: await collection.countDocuments({ userId, readAt: null, archivedAt: null, seq: { $lte: 7 } }),
      unseen: await collection.countDocuments({ userId, seenAt: null, archivedAt: null, seq: { $lte: 7 } }),
    };
    expect(atSeven).toEqual({ unread: 3, unseen: 3 });
    expect(await counts.at(userId, 7)).toEqual({ ...atSeven, atSeq: 7 });
    expect(await counts.at(userId, 0)).toEqual({ unread: 0, unseen: 0, atSeq: 0 });
    // With a counter, at the counter (a seq handed out and not stored yet is not in them).
    const withCounter = createCountFeed({ connection: stack.inspector, sequences: { highest: async () => 7 } });
    expect(await withCounter(userId)).toEqual({ ...atSeven, atSeq: 7 });
    // On the tests' FerretDB this is the one-read path (on MONGODB_URI, the two counts).
    if (!process.env.MONGODB_URI) expect((await databaseTraits(stack.inspector)).secondaryIndexes).toBe(false);
  });
});
