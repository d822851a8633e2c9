import mongoose, { type Connection } from 'mongoose';

/** An independent connection for checking what is really stored, bypassing the code under test. */
export async function openInspector(mongodbUri: string): Promise<Connection> {
  return mongoose.createConnection(mongodbUri, { serverSelectionTimeoutMS: 3000 }).asPromise();
}

export function storedNotifications(inspector: Connection, userId: string) {
  return inspector.collection('notifications').find({ userId }).sort({ seq: 1 }).toArray();
}
