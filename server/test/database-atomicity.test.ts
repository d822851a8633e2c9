import mongoose from 'mongoose';
import { useTestStack } from './support/stack';

/**
 * What Herald relies on from the database: a conditional update (or findOneAndUpdate, or delete)
 * applies to a document atomically, so of several attempts to move the same document from one state
 * only one succeeds. Scheduled-job claims and topic membership are built on it. MongoDB does
 * this; the bundled FerretDB build does it with the fix `npm run setup` applies (see README).
 */
/** The test's documents: a claim (state, owner) or a membership (member, version). */
interface Claim {
  _id: string;
  state?: string;
  owner?: number;
  member?: boolean;
  version?: number;
}

describe('the database applies conditional writes atomically', () => {
  const stack = useTestStack();
  let connections: mongoose.Connection[] = [];

  beforeAll(async () => {
    connections = await Promise.all([1, 2, 3, 4].map(() => mongoose.createConnection(stack.mongodbUri).asPromise()));
  });
  afterAll(() => Promise.all(connections.map((c) => c.close())));

  it('of four concurrent takeovers of one document, exactly one wins, 100 times over', async () => {
    const rounds = 100;
    const winners: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const _id = `claim-${round}`;
      await connections[0]!.collection<Claim>('atomicity').insertOne({ _id, state: 'pending', owner: 0 });
      const attempts = await Promise.all(
        connections.map((connection, i) =>
          connection
            .collection<Claim>('atomicity')
            .findOneAndUpdate({ _id, state: 'pending', owner: 0 }, { $set: { owner: i + 1 } }, { returnDocument: 'after' }),
        ),
      );
      winners.push(attempts.filter((doc) => doc !== null).length);
    }
    expect(winners).toEqual(Array.from({ length: rounds }, () => 1));
  });

  it('of a conditional update and a conditional delete of one document, exactly one applies', async () => {
    const rounds = 100;
    const both: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const _id = `member-${round}`;
      const collection = (i: number) => connections[i]!.collection<Claim>('atomicity');
      await collection(0).insertOne({ _id, member: true, version: 1 });
      const [updated, deleted] = await Promise.all([
        collection(1).updateOne({ _id, version: 1 }, { $set: { version: 2 } }),
        collection(2).deleteOne({ _id, version: 1 }),
      ]);
      if (updated.matchedCount + deleted.deletedCount !== 1) both.push(round);
    }
    expect(both).toEqual([]);
  });
});
