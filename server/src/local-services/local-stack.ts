import fs from 'node:fs';
import path from 'node:path';
import { startFerretDb, type LocalFerretDb } from './ferretdb';
import { startMailpit, type LocalMailpit } from './mailpit';
import { startRedisServer, type LocalRedis } from './redis-server';

export interface LocalStack {
  mongodbUri?: string;
  redisUrl?: string;
  /** Mailpit's SMTP server and web inbox, when it was asked for. */
  mail?: { smtpUrl: string; webUrl: string };
  stop(): Promise<void>;
}

interface LockFile {
  pid: number;
  mongodbUri?: string;
  redisUrl?: string;
  smtpUrl?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the services the environment does not name (MONGODB_URI, REDIS_URL),
 * with their data under dataDir so it survives restarts. One stack per data
 * directory: a lock file stops a second launcher from opening the same files.
 */
export async function startLocalStack(options: {
  dataDir: string;
  need: { mongodb: boolean; redis: boolean; mail?: boolean };
  database?: string;
}): Promise<LocalStack> {
  if (!options.need.mongodb && !options.need.redis && !options.need.mail) return { stop: async () => undefined };
  fs.mkdirSync(options.dataDir, { recursive: true });
  const lockPath = path.join(options.dataDir, 'services.lock.json');
  if (fs.existsSync(lockPath)) {
    const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockFile;
    if (alive(lock.pid) && lock.pid !== process.pid) {
      const env = [
        lock.mongodbUri && `MONGODB_URI=${lock.mongodbUri}`,
        lock.redisUrl && `REDIS_URL=${lock.redisUrl}`,
        lock.smtpUrl && `SMTP_URL=${lock.smtpUrl}`,
      ]
        .filter(Boolean)
        .join(' ');
      throw new Error(
        `Local services for ${options.dataDir} are already running (process ${lock.pid}).\n` +
          `To run another instance against them: ${env} PORT=3001 npm start`,
      );
    }
  }
  let ferret: LocalFerretDb | undefined;
  let redis: LocalRedis | undefined;
  let mailpit: LocalMailpit | undefined;
  const stop = async () => {
    await Promise.allSettled([ferret?.stop(), redis?.stop(), mailpit?.stop()]);
    fs.rmSync(lockPath, { force: true });
  };
  try {
    [ferret, redis, mailpit] = await Promise.all([
      options.need.mongodb ? startFerretDb({ dataDir: path.join(options.dataDir, 'ferretdb') }) : undefined,
      options.need.redis ? startRedisServer({ dataDir: path.join(options.dataDir, 'redis') }) : undefined,
      options.need.mail ? startMailpit({ dataDir: path.join(options.dataDir, 'mailpit') }) : undefined,
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  const stack: LocalStack = {
    ...(ferret ? { mongodbUri: `${ferret.url}${options.database ?? 'herald'}` } : {}),
    ...(redis ? { redisUrl: redis.url } : {}),
    ...(mailpit ? { mail: { smtpUrl: mailpit.smtpUrl, webUrl: mailpit.webUrl } } : {}),
    stop,
  };
  const lock: LockFile = {
    pid: process.pid,
    ...(stack.mongodbUri ? { mongodbUri: stack.mongodbUri } : {}),
    ...(stack.redisUrl ? { redisUrl: stack.redisUrl } : {}),
    ...(stack.mail ? { smtpUrl: stack.mail.smtpUrl } : {}),
  };
  fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2));
  return stack;
}
