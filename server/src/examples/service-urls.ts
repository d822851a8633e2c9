import fs from 'node:fs';
import path from 'node:path';
import { loadEnvFile } from '../cli/env-file';

const ROOT = path.resolve(__dirname, '../../..');

/** MONGODB_URI and REDIS_URL for an example process: the environment, then .env, then the local services `npm start` runs. */
export function serviceUrls(): { mongodbUri: string; redisUrl: string } {
  loadEnvFile(path.join(ROOT, '.env'));
  let mongodbUri = process.env.MONGODB_URI ?? '';
  let redisUrl = process.env.REDIS_URL ?? '';
  const lockFile = path.join(ROOT, '.data', 'services.lock.json');
  if ((!mongodbUri || !redisUrl) && fs.existsSync(lockFile)) {
    const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { mongodbUri?: string; redisUrl?: string };
    mongodbUri ||= lock.mongodbUri ?? '';
    redisUrl ||= lock.redisUrl ?? '';
  }
  if (!mongodbUri || !redisUrl) {
    console.error('Set MONGODB_URI and REDIS_URL, or run `npm start` first so the examples can use its local services.');
    process.exit(1);
  }
  return { mongodbUri, redisUrl };
}
