import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { startLocalStack } from '../src/local-services/local-stack';

describe('local services started by the project', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-stack-'));
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keep their data in the data directory across a restart, and stop cleanly', async () => {
    const first = await startLocalStack({ dataDir: dir, need: { mongodb: true, redis: true } });
    const conn = await mongoose.createConnection(first.mongodbUri!, { serverSelectionTimeoutMS: 3000 }).asPromise();
    await conn.collection('notifications').insertOne({ title: 'survives restarts' });
    await conn.close();
    const redis = new Redis(first.redisUrl!);
    await redis.set('herald:test', 'kept');
    redis.disconnect();
    await first.stop();
    expect(fs.existsSync(path.join(dir, 'services.lock.json'))).toBe(false);

    const second = await startLocalStack({ dataDir: dir, need: { mongodb: true, redis: true } });
    try {
      const again = await mongoose.createConnection(second.mongodbUri!, { serverSelectionTimeoutMS: 3000 }).asPromise();
      expect(await again.collection('notifications').findOne({ title: 'survives restarts' })).not.toBeNull();
      await again.close();
      const redis2 = new Redis(second.redisUrl!);
      expect(await redis2.get('herald:test')).toBe('kept');
      redis2.disconnect();
    } finally {
      await second.stop();
    }
  });

  it('start nothing when both URLs are given', async () => {
    const stack = await startLocalStack({ dataDir: dir, need: { mongodb: false, redis: false } });
    expect(stack.mongodbUri).toBeUndefined();
    expect(stack.redisUrl).toBeUndefined();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuse a second launcher on the same data directory, saying how to share the running services', async () => {
    const other = spawn('sleep', ['30']);
    try {
      fs.writeFileSync(
        path.join(dir, 'services.lock.json'),
        JSON.stringify({ pid: other.pid, mongodbUri: 'mongodb://127.0.0.1:1/herald', redisUrl: 'redis://127.0.0.1:2' }),
      );
      await expect(startLocalStack({ dataDir: dir, need: { mongodb: true, redis: true } })).rejects.toThrow(
        /already running[\s\S]*MONGODB_URI=mongodb:\/\/127\.0\.0\.1:1\/herald REDIS_URL=redis:\/\/127\.0\.0\.1:2/,
      );
    } finally {
      other.kill();
    }
  });
});
