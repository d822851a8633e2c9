import type { Connection } from 'mongoose';

/** The only users the demo ever writes. */
const DEMO_USERNAMES = ['alice', 'bob', 'carol'];

/**
 * The demo writes its users into `users`. A `users` collection that holds
 * anyone but the demo's users belongs to another app: with the demo on, Herald
 * refuses to start there rather than put the demo's users (and its
 * passwordless sign-in) beside that app's. Without the demo, Herald may share
 * a database with another app (see refuseForeignCollections).
 */
export async function refuseForeignUsers(connection: Connection): Promise<void> {
  const db = connection.db;
  if (!db) throw new Error('not connected to the database');
  if ((await db.listCollections({ name: 'users' }, { nameOnly: true }).toArray()).length === 0) return;
  const foreign = await db.collection('users').findOne({ username: { $nin: DEMO_USERNAMES } }, { projection: { _id: 1 } });
  if (foreign) {
    throw new Error(
      `The database "${db.databaseName}" has a users collection of another app, and the demo (DEMO=true) would add its ` +
        'users and their passwordless sign-in to it. Turn the demo off (DEMO=false) or give it a database of its own ' +
        '(MONGODB_URI=mongodb://…/herald).',
    );
  }
}
