import mongoose from 'mongoose';
import { createCountFeed } from '../src/notifications/notification-counts';
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
    const counts = createCountFeed({
      connection: stack.inspector,
      cache: {
        countsWithState: async (_, compute) => ({ counts: await compute(), inFlight: false }),
        syncRead: async (_, _after, _limit, compute) => ({ counts: await compute(), inFlight: false }),
      },
    });
    expect(await counts(userId)).toEqual(expected);
    // On the tests' FerretDB this is the one-read path (on MONGODB_URI, the two counts).
    if (!process.env.MONGODB_URI) expect((await databaseTraits(stack.inspector)).secondaryIndexes).toBe(false);
  });
});
