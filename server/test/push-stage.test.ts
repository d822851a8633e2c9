import webpush from 'web-push';
import { jobModel, createJobStore, type JobDoc } from '../src/notifications/scheduled-jobs';
import { createLogger } from '../src/platform/logger';
import { createPushStage, pushRetryDelayMs } from '../src/push/push-stage';
import { createPushSubscriptions } from '../src/push/push-subscriptions';
import { startTestHerald } from './support/herald';
import { asUser } from './support/http';
import { pushConfigFor, startPushService, type PushService } from './support/push-service';
import { useTestStack } from './support/stack';
import { waitFor } from './support/wait';

const vapid = webpush.generateVAPIDKeys();
const VAPID_ENV = { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@example.com' };
// The stack's gateway runs no jobs: each test runs the push jobs its publishes recorded, by hand.
const stack = useTestStack({
  env: { ...VAPID_ENV, CRITICAL_CATEGORIES: 'security', PUSH_BY_DEFAULT: 'order.shipped' },
  herald: { jobsIntervalMs: 0 },
});
let service: PushService;
let runPush: (job: JobDoc) => Promise<void>;

beforeAll(async () => {
  service = await startPushService();
  runPush = createPushStage({
    connection: stack.inspector,
    config: pushConfigFor(service, vapid),
    subscriptions: createPushSubscriptions(stack.inspector),
    jobs: createJobStore(stack.inspector),
    critical: ['security'],
    logger: createLogger('silent'),
  });
});
afterAll(() => service?.close());

/** A user with `browsers` subscriptions on the loopback push service. */
async function subscribed(userId: string, browsers = 1) {
  const subscriptions = createPushSubscriptions(stack.inspector);
  const list = Array.from({ length: browsers }, () => service.subscribe());
  for (const browser of list) await subscriptions.add(userId, { endpoint: browser.endpoint, ...browser.keys });
  return list;
}

/** Publishes through the gateway, asking for push; resolves with the notification and the push job it recorded. */
async function publish(userId: string, extra: Record<string, unknown> = {}) {
  const { notifications } = await stack.herald.gateway.publishNotification({
    userIds: [userId],
    type: 'comment.created',
    title: 'Ada replied',
    channels: { push: true },
    ...extra,
  });
  const n = notifications[0]!;
  const job = await jobModel(stack.inspector).findOne({ kind: 'push', 'targets.id': n.id }).lean();
  return { n, job: job! };
}

const receivedBy = (browser: { id: string }) => service.received.filter((push) => push.subscription === browser.id);

describe('the push stage', () => {
  it('records one push job for a publish that asks for it, and sends each notification once to every browser of its user', async () => {
    const [laptop, phone] = await subscribed('push-ada', 2);
    const { n, job } = await publish('push-ada', { body: 'Looks good', actionUrl: '/posts/9', category: 'security' });
    expect(job).toMatchObject({ kind: 'push', targets: [{ userId: 'push-ada', id: n.id }] });
    await runPush(job);
    for (const browser of [laptop!, phone!]) {
      expect(receivedBy(browser)).toHaveLength(1);
      expect(receivedBy(browser)[0]!.payload).toEqual({
        id: n.id,
        title: 'Ada replied',
        body: 'Looks good',
        url: '/posts/9',
        category: 'security',
        tag: n.id,
        createdAt: n.createdAt,
      });
      // A critical category wakes the device.
      expect(receivedBy(browser)[0]!.headers).toMatchObject({ urgency: 'high', ttl: '86400' });
    }
  });

  it('records no push job without channels.push, nor for a recipient who turned the category off', async () => {
    await subscribed('push-quiet');
    const { notifications } = await stack.herald.gateway.publishNotification({
      userIds: ['push-quiet'],
      type: 'a.b',
      title: 'in-app only',
    });
    expect(await jobModel(stack.inspector).countDocuments({ 'targets.id': notifications[0]!.id })).toBe(0);
    await stack.inspector
      .collection('preferences')
      .insertOne({ _id: 'push-off', mutedTypes: [], pushOffCategories: ['social'], updatedAt: new Date() } as never);
    const off = await stack.herald.gateway.publishNotification({
      userIds: ['push-off'],
      type: 'a.b',
      title: 'x',
      category: 'social',
      channels: { push: true },
    });
    expect(off.notifications).toHaveLength(1);
    expect(await jobModel(stack.inspector).countDocuments({ 'targets.id': off.notifications[0]!.id })).toBe(0);
  });

  it('retries what a failing push service did not take, once, after a backoff; nothing twice', async () => {
    const [browser] = await subscribed('push-bob');
    service.script(browser!.id, { status: 500 });
    const { n, job } = await publish('push-bob');
    await runPush(job);
    expect(receivedBy(browser!)).toHaveLength(0);
    const retry = await jobModel(stack.inspector).findById(`${job._id}:r1`).lean();
    expect(retry).toMatchObject({ kind: 'push', retry: 1, targets: [{ userId: 'push-bob', id: n.id, endpoint: browser!.endpoint }] });
    expect(retry!.dueAt.getTime()).toBeGreaterThan(Date.now());
    await runPush(retry!);
    expect(receivedBy(browser!)).toHaveLength(1);
    expect(await jobModel(stack.inspector).findById(`${job._id}:r2`).lean()).toBeNull();
  });

  it("honours a push service's Retry-After", async () => {
    const [browser] = await subscribed('push-cy');
    service.script(browser!.id, { status: 429, headers: { 'Retry-After': '120' } });
    const { job } = await publish('push-cy');
    const before = Date.now();
    await runPush(job);
    const retry = await jobModel(stack.inspector).findById(`${job._id}:r1`).lean();
    expect(retry!.dueAt.getTime() - before).toBeGreaterThanOrEqual(120_000);
    expect(pushRetryDelayMs(0)).toBe(2000);
    expect(pushRetryDelayMs(20)).toBe(3600_000);
  });

  it('forgets a subscription the push service says is gone; sends nothing for a notification read meanwhile', async () => {
    const [gone, kept] = await subscribed('push-dee', 2);
    service.revoke(gone!.id);
    const first = await publish('push-dee');
    await runPush(first.job);
    const held = await stack.inspector.collection('push_subscriptions').find({ userId: 'push-dee' }).toArray();
    expect(held.map((s) => s.endpoint)).toEqual([kept!.endpoint]);
    expect(receivedBy(kept!)).toHaveLength(1);

    const read = await publish('push-dee');
    await stack.herald.gateway.feed.markRead('push-dee', [read.n.id]);
    await runPush(read.job);
    expect(receivedBy(kept!)).toHaveLength(1);
  });

  it('never pushes a notification its job does not name, and waits for one not inserted yet', async () => {
    const [browser] = await subscribed('push-fay');
    const { n } = await publish('push-fay');
    // A job naming a stored notification that another publish recorded (the seq's id, taken first):
    // the document names its own job, not this one.
    await runPush({ ...(await publish('push-fay')).job, _id: 'push:not-the-owner', targets: [{ userId: 'push-fay', id: n.id }] });
    expect(receivedBy(browser!)).toHaveLength(0);
    // A job claimed before its insert landed: it waits a second, in a job of its own.
    const early = {
      _id: 'push:early',
      kind: 'push',
      targets: [{ userId: 'push-fay', id: '0123456789abcdef01234567' }],
      createdAt: new Date(),
    } as JobDoc;
    await runPush(early);
    expect(await jobModel(stack.inspector).findById('push:early:w1').lean()).toMatchObject({ targets: early.targets });
  });
});

describe('push in a tenant', () => {
  it("sends a tenant's notifications to the browsers registered in that tenant only", async () => {
    // Registered as the routes register them: under the feed the request named (Herald-Tenant: acme, or none).
    const subscriptions = createPushSubscriptions(stack.inspector);
    const [inAcme, personal] = [service.subscribe(), service.subscribe()];
    await subscriptions.add('acme/push-jo', { endpoint: inAcme.endpoint, ...inAcme.keys });
    await subscriptions.add('push-jo', { endpoint: personal.endpoint, ...personal.keys });
    const { notifications } = await stack.herald.gateway.publishNotification({
      userIds: ['push-jo'],
      type: 'comment.created',
      title: 'In Acme',
      tenant: 'acme',
      channels: { push: true },
    });
    const job = await jobModel(stack.inspector).findOne({ kind: 'push', 'targets.id': notifications[0]!.id }).lean();
    await runPush(job!);
    expect(receivedBy(inAcme).map((push) => (push.payload as { title: string }).title)).toEqual(['In Acme']);
    expect(receivedBy(personal)).toEqual([]);
  });
});

describe('push by default', () => {
  it('asks for push for the types and categories the deployment lists, unless the publish says no', async () => {
    const pushJobsFor = async (id: string) => jobModel(stack.inspector).countDocuments({ kind: 'push', 'targets.id': id });
    const publishShipped = async (channels?: { push: boolean }) =>
      (
        await stack.herald.gateway.publishNotification({
          userIds: ['push-ivy'],
          type: 'order.shipped',
          title: 'Shipped',
          ...(channels ? { channels } : {}),
        })
      ).notifications[0]!;
    expect(await pushJobsFor((await publishShipped()).id)).toBe(1);
    expect(await pushJobsFor((await publishShipped({ push: false })).id)).toBe(0);
    const other = await stack.herald.gateway.publishNotification({ userIds: ['push-ivy'], type: 'order.placed', title: 'Placed' });
    expect(await pushJobsFor(other.notifications[0]!.id)).toBe(0);
  });
});

describe('preferences where push is configured', () => {
  it('list push among the channels, so the settings panel shows its column', async () => {
    const token = stack.herald.gateway.tokens!.sign({ userId: 'push-hal', name: 'Hal' }).token;
    const answer = await asUser(stack.herald.url, token).get('/api/preferences').expect(200);
    expect(answer.body.channels).toEqual(['inApp', 'push']);
  });
});

describe('push jobs on the gateways', () => {
  it("are claimed and run by a gateway's job runner", async () => {
    const runner = await startTestHerald({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url, env: VAPID_ENV });
    try {
      const [browser] = await subscribed('push-eve');
      const { job } = await publish('push-eve');
      await waitFor(() => expect(receivedBy(browser!)).toHaveLength(1), 10_000);
      await waitFor(async () => expect(await jobModel(stack.inspector).findById(job._id).lean()).toBeNull());
      expect(receivedBy(browser!)).toHaveLength(1);
    } finally {
      await runner.close();
    }
  });

  it('are run at once by the gateway that published them, not at its next look for due jobs', async () => {
    // A look for due jobs once a minute: only the publish's own nudge can run the job within seconds.
    const runner = await startTestHerald({
      mongodbUri: stack.mongodbUri,
      redisUrl: stack.redis.url,
      env: VAPID_ENV,
      options: { jobsIntervalMs: 60_000 },
    });
    try {
      const [browser] = await subscribed('push-gil');
      await runner.gateway.publishNotification({ userIds: ['push-gil'], type: 'comment.created', title: 'Soon', channels: { push: true } });
      await waitFor(() => expect(receivedBy(browser!)).toHaveLength(1), 5000);
    } finally {
      await runner.close();
    }
  });
});
