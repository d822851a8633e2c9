import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { createEmailSender } from '../src/email/email-sender';
import { startLocalStack } from '../src/local-services/local-stack';
import { findMailpit } from '../src/local-services/mailpit';

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

  // Mailpit is what `npm run setup` installs for development (CI runs setup too); without it there is nothing to start.
  const mailpitTest = findMailpit() || process.env.CI ? it : it.skip;
  mailpitTest('run Mailpit for email in development: what the gateway sends shows in its inbox', async () => {
    const stack = await startLocalStack({ dataDir: dir, need: { mongodb: false, redis: false, mail: true } });
    try {
      expect(stack.mail?.smtpUrl).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/);
      const sender = createEmailSender({ smtpUrl: stack.mail!.smtpUrl, from: 'Herald <notifications@localhost>' });
      await sender.send({
        to: { address: 'bob@example.com', name: 'Bob' },
        subject: 'Alice commented on your post',
        text: 'Hi Bob',
        html: '<p>Hi Bob</p>',
        unsubscribeUrl: 'http://localhost:3000/api/email/unsubscribe?token=t',
        messageId: '<local-services-test@localhost>',
      });
      sender.close();
      const inbox = (await (await fetch(`${stack.mail!.webUrl.replace('localhost', '127.0.0.1')}/api/v1/messages`)).json()) as {
        messages: { Subject: string; To: { Address: string }[] }[];
      };
      expect(inbox.messages.map((m) => ({ subject: m.Subject, to: m.To.map((t) => t.Address) }))).toEqual([
        { subject: 'Alice commented on your post', to: ['bob@example.com'] },
      ]);
      expect(fs.existsSync(path.join(dir, 'mailpit', 'mailpit.db'))).toBe(true);
    } finally {
      await stack.stop();
    }
  });
});
