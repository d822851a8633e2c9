import { Redis } from 'ioredis';
import mongoose from 'mongoose';

/** Commands the measuring itself, or a driver's housekeeping, sends: not the stack's work. */
const REDIS_HOUSEKEEPING = new Set(['info', 'client', 'ping', 'hello', 'select', 'command', 'config']);
/** The database commands that read or write data (driver handshakes, pings and status reads are left out). */
const DATABASE_DATA_COMMANDS = ['insert', 'update', 'delete', 'find', 'findAndModify', 'aggregate', 'count', 'distinct', 'getMore'];

/** Redis's commands executed so far, summed from INFO commandstats (housekeeping left out). */
export async function redisCommandCount(redisUrl: string): Promise<number> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('commandstats');
    let total = 0;
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (!REDIS_HOUSEKEEPING.has(match[1]!.split('|')[0]!)) total += Number(match[2]);
    }
    return total;
  } finally {
    client.disconnect();
  }
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
export async function opCounts(env: { redisUrl: string; mongodbUri?: string }): Promise<{ redis: number; database: number | null }> {
  const [redis, database] = await Promise.all([
    redisCommandCount(env.redisUrl),
    env.mongodbUri ? databaseOpCount(env.mongodbUri) : Promise.resolve(null),
  ]);
  return { redis, database };
}
