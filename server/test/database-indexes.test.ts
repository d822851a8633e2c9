import mongoose from 'mongoose';
import { freshMongoUri } from './support/services';
import { databaseTraits } from '../src/storage/database-traits';
import { isCollectionScan } from './support/database';

/**
 * What Herald relies on from the database's indexes: a query on the first field of an index (or on
 * _id), equal to a value or $in a list, reads through the index and still returns exactly what
 * MongoDB's rules match: a field equal to "x" matches an array holding "x", and any string compares
 * as itself, quotes, escapes and all. MongoDB does this; the bundled FerretDB build does it with the
 * fix `npm run setup` applies (see README): upstream FerretDB 1.24 reads the whole collection for
 * every query but one by _id alone.
 */
describe('the database answers indexed queries from the index, exactly', () => {
  let connection: mongoose.Connection;
  const odd = ['w<1', 'a&b', 'q"x', 'b\\s', 'é', 'ü\u0301', '😀', 'tab\tx', '\u2028', "'", '</script>', 'a.b', '$x'];
  const users = [...odd, ...Array.from({ length: 50 }, (_, i) => `user-${i}`)];
  /** The test's documents; userId is an array in one of them. */
  interface Doc {
    _id: string;
    userId: string | string[];
    seq: number;
    tags: string | string[];
    readAt: Date | null;
  }
  const collection = () => connection.collection<Doc>('pushdown');

  beforeAll(async () => {
    connection = await mongoose.createConnection(freshMongoUri()).asPromise();
    await collection().createIndex({ userId: 1, seq: 1 }, { unique: true });
    await collection().createIndex({ tags: 1 });
    const docs: Doc[] = users.flatMap((userId, u) =>
      Array.from({ length: 20 }, (_, seq) => ({
        _id: `${userId}|${seq}`,
        userId,
        seq,
        tags: seq % 2 ? 'one' : ['one', 'two'],
        readAt: seq % 3 ? null : new Date(u),
      })),
    );
    // A document whose indexed field holds an array matches each of its elements.
    docs.push({ _id: 'shared', userId: ['user-1', 'user-2'], seq: -1, tags: 'three', readAt: null });
    await collection().insertMany(docs);
  });
  afterAll(() => connection.close());

  async function planOf(filter: Record<string, unknown>) {
    const explain = await connection.db!.command({ explain: { find: 'pushdown', filter }, verbosity: 'queryPlanner' });
    return isCollectionScan(explain) ? 'scan' : 'index';
  }

  it('finds every string by equality on an indexed field, through the index', async () => {
    for (const userId of odd) {
      expect({ userId, count: await collection().countDocuments({ userId }), plan: await planOf({ userId }) }).toEqual({
        userId,
        count: 20,
        plan: 'index',
      });
      expect(await collection().countDocuments({ _id: `${userId}|3` })).toBe(1);
    }
  });

  it('matches arrays that hold the value, as MongoDB does', async () => {
    expect(await collection().countDocuments({ userId: 'user-1' })).toBe(21);
    expect(await collection().countDocuments({ tags: 'two' })).toBe(users.length * 10);
    expect(await planOf({ tags: 'two' })).toBe('index');
  });

  it('answers $in on _id and on an indexed field, and the filter beyond the indexed part', async () => {
    const ids = { _id: { $in: ['user-3|1', 'user-4|2', 'é|19', 'missing'] } };
    expect(await collection().countDocuments(ids)).toBe(3);
    expect(await planOf(ids)).toBe('index');
    const some = { userId: { $in: ['user-5', 'user-6', 'q"x'] }, seq: { $gte: 10 }, readAt: null };
    // seq 10..19 is 10 documents a user, of which seq 12, 15, 18 were read.
    expect(await collection().countDocuments(some)).toBe(3 * 7);
    expect(await planOf(some)).toBe('index');
    expect((await collection().updateMany(some, { $set: { readAt: new Date() } })).modifiedCount).toBe(21);
    expect(await collection().countDocuments(some)).toBe(0);
    const counted = await collection()
      .aggregate([{ $match: { userId: 'user-7', readAt: null } }, { $count: 'n' }])
      .toArray();
    expect(counted).toEqual([{ n: 13 }]);
  });

  it('answers null, number ranges and $or the way MongoDB matches them, and counts without reading', async () => {
    const mixed = connection.collection('pushdown_mixed');
    await mixed.createIndex({ userId: 1, seq: 1 });
    const day = new Date(0);
    // Every shape a field can take that these conditions treat differently: missing, null, a value, an
    // array holding null or the value, an empty or nested array, a string where a number is expected.
    const readAts = [undefined, null, day, [null], [day], []];
    const seqs = [undefined, null, 1, 5, 9, '7', [1, 9], [2], true, day];
    const userIds = ['a', 'b', ['a', 'c'], ['c'], [], 'a"', null];
    const docs = userIds.flatMap((userId, u) =>
      readAts.flatMap((readAt, r) =>
        seqs.map((seq, s) => {
          const doc: Record<string, unknown> = { _id: `${u}.${r}.${s}` };
          if (userId !== null) doc.userId = userId;
          if (readAt !== undefined) doc.readAt = readAt;
          if (seq !== undefined) doc.seq = seq;
          if ((u + r + s) % 3 === 0) doc.seenAt = day;
          return doc;
        }),
      ),
    );
    await mixed.insertMany(docs as never[]);
    const filters: Record<string, unknown>[] = [
      { userId: 'a', readAt: null },
      { userId: { $in: ['a', 'a"'] }, readAt: null, seenAt: null },
      { userId: 'a', $or: [{ readAt: null }, { seenAt: null }] },
      { userId: 'a', seq: { $gt: 4 } },
      { userId: 'c', seq: { $gte: 2, $lt: 9 } },
      { seq: { $lte: 5 } },
      { readAt: null, $or: [{ userId: 'b' }, { seq: { $gt: 8 } }] },
      { userId: 'a', seq: { $exists: false } },
      { userId: 'b', readAt: { $exists: true }, seq: { $lt: 6 } },
    ];
    for (const filter of filters) {
      // FerretDB hands no part of {$and: [...]} to SQLite: its own matcher decides, as MongoDB's does.
      const truth = await mixed.countDocuments({ $and: [filter] });
      const counted = (await connection.db!.command({ count: 'pushdown_mixed', query: filter })) as { n: number };
      const found = await mixed.find(filter).toArray();
      expect({ filter, counted: counted.n, found: found.length }).toEqual({ filter, counted: truth, found: truth });
      expect(truth).toBeGreaterThan(0);
    }
    // Spelled out for one: user 'a' or an array holding it (u 0 and 2), readAt missing, null or [null].
    expect(await mixed.countDocuments({ $and: [{ userId: 'a', readAt: null }] })).toBe(2 * 3 * seqs.length);
    for (const filter of filters.slice(0, 5)) {
      const plan = await connection.db!.command({ explain: { find: 'pushdown_mixed', filter }, verbosity: 'queryPlanner' });
      expect({ filter, scan: isCollectionScan(plan) }).toEqual({ filter, scan: false });
    }
  });

  it('returns the first documents of a sorted, limited find as MongoDB orders them', async () => {
    const mixed = connection.collection('pushdown_mixed');
    const sortedSeqs = async (collection: typeof mixed, filter: Record<string, unknown>, direction: 1 | -1, skip: number, limit: number) =>
      // Missing and null sort as equals, in either order.
      (await collection.find(filter).sort({ seq: direction }).skip(skip).limit(limit).toArray()).map((doc) => doc.seq ?? null);
    const cases: [typeof mixed, Record<string, unknown>, 1 | -1, number, number][] = [
      // Numbers only: SQLite may order and limit.
      [collection() as unknown as typeof mixed, { userId: 'user-5' }, -1, 0, 1],
      [collection() as unknown as typeof mixed, { userId: 'user-5', seq: { $gt: 3 } }, 1, 0, 5],
      [collection() as unknown as typeof mixed, { userId: { $in: ['user-5', 'q"x'] }, readAt: null }, -1, 2, 4],
      [collection() as unknown as typeof mixed, { userId: 'user-1' }, 1, 0, 2],
      // Missing, null, arrays, strings and dates where the sort looks: FerretDB's own order.
      [mixed, { userId: 'a' }, -1, 0, 3],
      [mixed, { userId: 'a' }, 1, 0, 12],
      [mixed, { userId: 'b', readAt: null, seq: { $exists: true } }, -1, 1, 3],
      [mixed, { userId: 'c', seq: { $gte: 1 } }, 1, 0, 2],
    ];
    for (const [collection, filter, direction, skip, limit] of cases) {
      const expected = await sortedSeqs(collection, { $and: [filter] }, direction, skip, limit);
      expect({ filter, direction, seqs: await sortedSeqs(collection, filter, direction, skip, limit) }).toEqual({
        filter,
        direction,
        seqs: expected,
      });
      expect(expected.length).toBeGreaterThan(0);
    }
  });

  it('recognises the bundled FerretDB build, so counts and the newest seq take its SQL paths', async () => {
    const info = await connection.db!.admin().command({ buildInfo: 1 });
    const traits = await databaseTraits(connection);
    if ('ferretdbVersion' in info) {
      // The build `npm run setup` makes; a stock FerretDB would read documents for both.
      expect({ version: info.ferretdbVersion, ...traits }).toEqual({
        version: expect.stringMatching(/-herald\.\d+$/),
        secondaryIndexes: false,
        sqlCounts: true,
        sortedLimits: true,
      });
    } else {
      expect(traits).toEqual({ secondaryIndexes: true, sqlCounts: false, sortedLimits: false });
    }
  });

  it('reads the whole collection for a field no index starts with (the check tells them apart)', async () => {
    expect(await planOf({ seq: 3 })).toBe('scan');
    expect(await collection().countDocuments({ seq: 3 })).toBe(users.length);
  });
});
