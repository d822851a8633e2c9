import type { Connection } from 'mongoose';
import { userModel } from './user-model';

export const DEMO_USERS = [
  { username: 'alice', name: 'Alice Martin' },
  { username: 'bob', name: 'Bob Okafor' },
  { username: 'carol', name: 'Carol Nguyen' },
] as const;

/** Creates the demo users if they are missing; safe to run on every start and from several instances. */
export async function seedDemoUsers(connection: Connection): Promise<void> {
  const User = userModel(connection);
  await User.init();
  await User.bulkWrite(
    DEMO_USERS.map((user) => ({
      updateOne: { filter: { username: user.username }, update: { $setOnInsert: user }, upsert: true },
    })),
    { ordered: false },
  );
}
