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

/**
 * Whether an explain answer (verbosity queryPlanner) reads the whole collection: a COLLSCAN stage on
 * MongoDB; on FerretDB, a filter it could not hand to SQLite, or a plan line that scans the table.
 */
export function isCollectionScan(explain: Record<string, unknown>): boolean {
  const text = JSON.stringify(explain);
  if (text.includes('COLLSCAN')) return true;
  if ('filterPushdown' in explain) {
    const plan = ((explain.queryPlanner as { Plan?: string[] } | undefined)?.Plan ?? []).join('\n');
    // A SCAN of json_each walks one document's array, not the table.
    return explain.filterPushdown !== true || /detail=SCAN (?!json_each )/.test(plan);
  }
  return false;
}
