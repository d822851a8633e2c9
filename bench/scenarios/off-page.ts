import path from 'node:path';
import mongoose from 'mongoose';
import webpush from 'web-push';
import { createHeraldPublisher } from '../../server/src/herald-publisher';
import { createPushSubscriptions } from '../../server/src/push/push-subscriptions';
import { startPushService } from '../../server/test/support/push-service';
import { startSmtpServer } from '../../server/test/support/smtp-server';
import { cpuMeter } from '../lib/cpu';
import { waitWithProgress } from '../lib/progress';
import type { ScenarioResult } from '../lib/result';
import { startGateways, startRedis, type Database } from '../lib/stack';
import { sleep } from '../lib/stats';

/** The loopback push service's certificate, made by scripts/test-ca.mjs (npm run bench runs it first). */
const PUSH_CA = path.resolve(__dirname, '../../.data/test-push-tls/cert.pem');
const DIGEST_WINDOW_SECONDS = 1;

/**
 * What reaching users off the page costs one gateway: `users` recipients with `browsers` Web Push
 * subscriptions each on a loopback HTTPS push service (which checks VAPID and decrypts every message, as
 * a browser's push service would), then the same recipients with an address on a loopback SMTP server.
 * A publisher process records the jobs; the one gateway runs them. Measured from the first publish to
 * the last message received: messages per second, and the gateway's CPU per message (the database's
 * and Redis's beside it). The emails include the digest window (1 s) in their time, not in their CPU.
 */
export async function measureOffPage(ctx: { db: Database; users: number; browsers: number }): Promise<ScenarioResult> {
  const redis = await startRedis();
  const mongodbUri = ctx.db.freshUri('offpage');
  const pushService = await startPushService();
  const smtp = await startSmtpServer();
  const vapid = webpush.generateVAPIDKeys();
  const email = {
    smtpUrl: smtp.url,
    from: 'Herald <bench@herald.example>',
    publicUrl: 'https://app.example',
    linkSecret: 'bench-link-secret-0123456789abcdef0123456789',
    digestWindowSeconds: DIGEST_WINDOW_SECONDS,
  };
  const push = { vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, vapidSubject: 'mailto:bench@herald.example' };
  const [gateway] = await startGateways(1, {
    mongodbUri,
    redisUrl: redis.url,
    extra: {
      NODE_EXTRA_CA_CERTS: PUSH_CA,
      VAPID_PUBLIC_KEY: push.vapidPublicKey,
      VAPID_PRIVATE_KEY: push.vapidPrivateKey,
      VAPID_SUBJECT: push.vapidSubject,
      PUSH_SERVICE_ORIGINS: pushService.origin,
      SMTP_URL: email.smtpUrl,
      EMAIL_FROM: email.from,
      PUBLIC_URL: email.publicUrl,
      EMAIL_LINK_SECRET: email.linkSecret,
      EMAIL_DIGEST_WINDOW_SECONDS: String(DIGEST_WINDOW_SECONDS),
    },
  });
  const publisher = await createHeraldPublisher({
    mongodbUri,
    redisUrl: redis.url,
    push: { ...push, serviceOrigins: [pushService.origin] },
    email,
  });
  const connection = await mongoose.createConnection(mongodbUri).asPromise();
  const userIds = Array.from({ length: ctx.users }, (_, i) => `offpage-${i}`);
  const groups = [
    { name: 'gateway', pids: [(await gateway!.call('stats', undefined)).pid] },
    ...(ctx.db.pid ? [{ name: 'database', pids: [ctx.db.pid] }] : []),
    ...(redis.pid ? [{ name: 'redis', pids: [redis.pid] }] : []),
  ];
  try {
    const subscriptions = createPushSubscriptions(connection);
    for (const userId of userIds) {
      for (let b = 0; b < ctx.browsers; b++) {
        const browser = pushService.subscribe();
        await subscriptions.add(userId, { endpoint: browser.endpoint, ...browser.keys });
      }
      await publisher.recipients.set(userId, { email: `${userId}@bench.example` });
    }

    const pushes = ctx.users * ctx.browsers;
    let meter = cpuMeter(groups);
    let started = performance.now();
    await publisher.publishNotification({
      userIds,
      type: 'bench.push',
      title: 'A push',
      body: 'Sent by the bench',
      channels: { push: true },
    });
    const pushed = await waitWithProgress(`${pushes} Web Push messages`, pushes, () => pushService.received.length, { timeoutMs: 120_000 });
    if (pushed.timedOut) throw new Error(`${pushed.done} of ${pushes} Web Push messages arrived in 120 s`);
    const pushSeconds = (performance.now() - started) / 1000;
    const pushCpu = meter.stop();
    await sleep(500);

    meter = cpuMeter(groups);
    started = performance.now();
    await publisher.publishNotification({
      userIds,
      type: 'bench.email',
      title: 'An email',
      body: 'Sent by the bench',
      actionUrl: '/bench',
      channels: { email: { unreadAfterSeconds: 0 } },
    });
    const mailed = await waitWithProgress(`${ctx.users} digest emails`, ctx.users, () => smtp.received.length, { timeoutMs: 120_000 });
    if (mailed.timedOut) throw new Error(`${mailed.done} of ${ctx.users} digest emails arrived in 120 s`);
    const emailSeconds = (performance.now() - started) / 1000;
    const emailCpu = meter.stop();

    const msPer = (cpu: typeof pushCpu, seconds: number, count: number, name: string) =>
      (((cpu.find((share) => share.name === name)?.percent ?? 0) / 100) * seconds * 1000) / count;
    return {
      id: 'off-page',
      title: 'Off the page: Web Push messages and digest emails one gateway sends',
      setup: `1 gateway, ${ctx.users} recipients, ${ctx.browsers} push subscriptions each on a loopback HTTPS push service, one address each on a loopback SMTP server; digest window ${DIGEST_WINDOW_SECONDS} s`,
      figures: [
        { label: 'Web Push messages per second', value: pushes / pushSeconds, unit: '/s' },
        { label: 'gateway CPU per Web Push message', value: msPer(pushCpu, pushSeconds, pushes, 'gateway'), unit: 'ms' },
        { label: 'database CPU per Web Push message', value: msPer(pushCpu, pushSeconds, pushes, 'database'), unit: 'ms' },
        {
          label: 'digest emails per second',
          value: ctx.users / emailSeconds,
          unit: '/s',
          note: `from the publish, so including the ${DIGEST_WINDOW_SECONDS} s digest window`,
        },
        { label: 'gateway CPU per digest email', value: msPer(emailCpu, emailSeconds, ctx.users, 'gateway'), unit: 'ms' },
        { label: 'database CPU per digest email', value: msPer(emailCpu, emailSeconds, ctx.users, 'database'), unit: 'ms' },
      ],
      cpu: pushCpu,
    };
  } finally {
    await connection.close();
    await publisher.close();
    await gateway!.call('close', undefined).catch(() => undefined);
    await gateway!.stop();
    await pushService.close();
    await smtp.close();
    await redis.stop();
  }
}
