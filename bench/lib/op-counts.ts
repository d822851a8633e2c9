import { Redis } from 'ioredis';
import mongoose from 'mongoose';

/** Commands the measuring itself, or a driver's housekeeping, sends: not the stack's work. */
const REDIS_HOUSEKEEPING = new Set(['info', 'client', 'ping', 'hello', 'select', 'command', 'config']);
/** The database commands that read or write data (driver handshakes, pings and status reads are left out). */
const DATABASE_DATA_COMMANDS = ['insert', 'update', 'delete', 'find', 'findAndModify', 'aggregate', 'count', 'distinct', 'getMore'];

/** Redis's commands executed so far, by name, from INFO commandstats (housekeeping left out). */
export async function redisCommandCounts(redisUrl: string): Promise<Record<string, number>> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('commandstats');
    const counts: Record<string, number> = {};
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (!REDIS_HOUSEKEEPING.has(match[1]!.split('|')[0]!)) counts[match[1]!] = Number(match[2]);
    }
    return counts;
  } finally {
    client.disconnect();
  }
}

/** Per command, how many more ran in `after` than in `before`, divided by `per`; the busiest first. */
export function commandsPer(before: Record<string, number>, after: Record<string, number>, per: number): Record<string, number> {
  const rows = Object.entries(after)
    .map(([name, calls]) => [name, (calls - (before[name] ?? 0)) / per] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(rows.map(([name, n]) => [name, Math.round(n * 1000) / 1000]));
}

/**
 * The database's data commands executed so far (serverStatus `metrics.commands`, which MongoDB and
 * FerretDB both keep): one insertMany is one operation, whatever its size. Null where the server does
 * not say.
 */
export async function databaseOpCount(mongodbUri: string): Promise<number | null> {
  const connection = await mongoose.createConnection(mongodbUri, { serverSelectionTimeoutMS: 3000 }).asPromise();
  try {
    const status = await connection.db!.admin().command({ serverStatus: 1 });
    const commands = (status.metrics as { commands?: Record<string, { total?: unknown }> } | undefined)?.commands;
    if (!commands) return null;
    return DATABASE_DATA_COMMANDS.reduce((sum, name) => sum + Number(commands[name]?.total ?? 0), 0);
  } finally {
    await connection.close();
  }
}

/** Both counts at once, for a before-and-after around a step. */
export async function opCounts(env: {
  redisUrl: string;
  mongodbUri?: string;
}): Promise<{ redis: number; redisByCommand: Record<string, number>; database: number | null }> {
  const [redisByCommand, database] = await Promise.all([
    redisCommandCounts(env.redisUrl),
    env.mongodbUri ? databaseOpCount(env.mongodbUri) : Promise.resolve(null),
  ]);
  return { redis: Object.values(redisByCommand).reduce((sum, n) => sum + n, 0), redisByCommand, database };
}
