import webpush from 'web-push';
import { jobModel } from '../server/src/notifications/scheduled-jobs';
import { createPushSubscriptions } from '../server/src/push/push-subscriptions';
import { spawnGateway, type GatewayProcess } from '../server/test/support/process-gateway';
import { startPushService, type PushService } from '../server/test/support/push-service';
import { useTestStack } from '../server/test/support/stack';
import { waitFor } from '../server/test/support/wait';

const USERS = 20;
const BROWSERS = 2;
const NOTIFICATIONS = 3;

const vapid = webpush.generateVAPIDKeys();
const VAPID_ENV = { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@example.com' };

describe('a push service answers 500, 503 and 429, then 201', () => {
  // The stack's gateway publishes and runs no jobs; two gateway processes race for the push jobs.
  let service: PushService;
  const stack = useTestStack({ env: VAPID_ENV, herald: { jobsIntervalMs: 0 } });
  const gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    service = await startPushService();
    const extra = { ...VAPID_ENV, PUSH_SERVICE_ORIGINS: service.origin };
    gateways.push(
      ...(await Promise.all([0, 1].map(() => spawnGateway({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url, extra })))),
    );
  }, 60_000);
  afterAll(async () => {
    for (const gateway of gateways) if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    await service?.close();
  });

  it('every notification reaches every browser exactly once; the failures are retried and counted', async () => {
    const subscriptions = createPushSubscriptions(stack.inspector);
    const users = Array.from({ length: USERS }, (_, i) => `push-fault-${i}`);
    const browsers = new Map<string, string>();
    let failures = 0;
    for (const [u, userId] of users.entries()) {
      for (let b = 0; b < BROWSERS; b++) {
        const browser = service.subscribe();
        browsers.set(browser.id, userId);
        await subscriptions.add(userId, { endpoint: browser.endpoint, ...browser.keys });
        // Each browser's push service fails its first answers: a 500, a 503, or a 429 with Retry-After.
        const script = [{ status: 500 }, { status: 503 }, { status: 429, headers: { 'Retry-After': '1' } }].slice(0, 1 + ((u + b) % 3));
        service.script(browser.id, ...script);
        failures += script.length;
      }
    }
    const published: string[] = [];
    for (let n = 0; n < NOTIFICATIONS; n++) {
      const { notifications } = await stack.herald.gateway.publishNotification({
        userIds: users,
        type: 'fault.push',
        title: `Push ${n}`,
        channels: { push: true },
      });
      published.push(...notifications.map((notification) => notification.id));
    }

    const expected = USERS * BROWSERS * NOTIFICATIONS;
    await waitFor(() => expect(service.received).toHaveLength(expected), 90_000, 200);
    await waitFor(async () => expect(await jobModel(stack.inspector).countDocuments({ kind: 'push' })).toBe(0), 30_000, 200);

    // Once each: every (browser, notification) pair, none twice, none for a notification of another user.
    const pairs = service.received.map((push) => `${push.subscription}/${(push.payload as { id: string }).id}`);
    expect(new Set(pairs).size).toBe(expected);
    const stored = await stack.inspector
      .collection('notifications')
      .find({ type: 'fault.push' }, { projection: { userId: 1 } })
      .toArray();
    expect(stored).toHaveLength(USERS * NOTIFICATIONS);
    expect(stored.map((doc) => String(doc._id)).sort()).toEqual([...published].sort());
    const owner = new Map(stored.map((doc) => [String(doc._id), String(doc.userId)]));
    for (const push of service.received) expect(owner.get((push.payload as { id: string }).id)).toBe(browsers.get(push.subscription));
    // Every failure was answered and counted as a retry, by whichever gateway met it.
    expect(service.answered.filter((answer) => answer.status !== 201)).toHaveLength(failures);
    const counted = (await Promise.all(gateways.map((g) => g.metrics()))).map((text) =>
      Number(/^herald_push_messages_total\{outcome="retry"\} (\d+)$/m.exec(text)?.[1] ?? 0),
    );
    expect(counted.reduce((a, b) => a + b, 0)).toBe(failures);
  }, 180_000);
});
