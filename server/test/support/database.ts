import mongoose, { type Connection } from 'mongoose';

/** An independent connection for checking what is really stored, bypassing the code under test. */
export async function openInspector(mongodbUri: string): Promise<Connection> {
  return mongoose.createConnection(mongodbUri, { serverSelectionTimeoutMS: 3000 }).asPromise();
}

export function storedNotifications(inspector: Connection, userId: string) {
  // Known gaps (seqs that hold no notification) are not notifications.
  return inspector
    .collection('notifications')
    .find({ userId, gap: { $exists: false } })
    .sort({ seq: 1 })
    .toArray();
}
