import { Redis } from 'ioredis';
import { createLogger } from '../src/platform/logger';
import { createRedisRecovery } from '../src/platform/redis-recovery';
import { createMuteSettings, type MuteSettings } from '../src/preferences/mute-settings';
import { preferenceModel } from '../src/preferences/preference-model';
import { asUser } from './support/http';
import { useTestStack } from './support/stack';
import { sleep, waitFor } from './support/wait';

describe('mute settings kept in each publishing process', () => {
  const stack = useTestStack({ users: ['alice', 'bob'] });
  const logger = createLogger('silent');
  let redis: Redis;
  let subscriber: Redis;
  let settings: MuteSettings;
  /** Subscribers of the channel besides this test's (the stack's gateways). */
  let others = 0;
  const subscribed = async () => {
    const [, count] = (await redis.pubsub('NUMSUB', stack.names.preferencesChannel)) as [string, number];
    return Number(count) - others;
  };

  /** Another publishing process's view: its own connections, on the stack's Redis and database. */
  beforeAll(async () => {
    redis = new Redis(stack.redis.url);
    subscriber = new Redis(stack.redis.url);
    others = await subscribed();
    settings = createMuteSettings({
      connection: stack.inspector,
      redis,
      listen: { subscriber, recovery: createRedisRecovery(subscriber, logger) },
      names: stack.names,
      logger,
      critical: ['security'],
    });
    // Subscribed: a first answer is kept from then on.
    await waitFor(async () => expect(await subscribed()).toBe(1));
    // The SUBSCRIBE's reply reaches the process just after Redis counts it.
    await sleep(50);
  });

  afterAll(() => {
    settings?.close();
    redis?.disconnect();
    subscriber?.disconnect();
  });

  const mute = (token: string, mutedTypes: string[]) => asUser(stack.herald.url, token).put('/api/preferences', { mutedTypes }).expect(200);

  it('reads a recipient once, then answers from what it kept; a change elsewhere reaches it at once', async () => {
    const { alice, bob } = stack.users;
    const find = jest.spyOn(preferenceModel(stack.inspector), 'find');
    try {
      const liked = [{ userIds: [alice.user.id, bob.user.id], type: 'post.liked' }];
      expect(await settings.forEach(liked)).toEqual([new Set()]);
      expect(find).toHaveBeenCalledTimes(1);
      expect(await settings.forEach(liked)).toEqual([new Set()]);
      expect(find).toHaveBeenCalledTimes(1);

      // Bob mutes the type through the gateway (another process): the message drops what was kept of him.
      await mute(bob.token, ['post.liked']);
      await waitFor(async () => expect(await settings.forEach(liked)).toEqual([new Set([bob.user.id])]));
      // Only Bob was read again; then nobody.
      expect((find.mock.calls.at(-1)![0] as unknown as { _id: { $in: string[] } })._id.$in).toEqual([bob.user.id]);
      const reads = find.mock.calls.length;
      expect(await settings.forEach(liked)).toEqual([new Set([bob.user.id])]);
      expect(find).toHaveBeenCalledTimes(reads);
      // A critical category reaches him anyway, and another type too.
      expect(
        await settings.forEach([
          { userIds: [bob.user.id], type: 'post.liked', category: 'security' },
          { userIds: [bob.user.id], type: 'comment.created' },
        ]),
      ).toEqual([new Set(), new Set()]);

      // The gateway itself leaves him out at once, and so does a publish right after he unmutes.
      expect(
        (await stack.herald.gateway.publishNotification({ userIds: [alice.user.id, bob.user.id], type: 'post.liked', title: 'x' }))
          .mutedUserIds,
      ).toEqual([bob.user.id]);
      await mute(bob.token, []);
      expect(
        (await stack.herald.gateway.publishNotification({ userIds: [bob.user.id], type: 'post.liked', title: 'y' })).mutedUserIds,
      ).toEqual([]);
      await waitFor(async () => expect(await settings.forEach(liked)).toEqual([new Set()]));
    } finally {
      find.mockRestore();
    }
  });

  it('keeps nothing while its subscriber connection is down (a change could be missed), and starts empty once back', async () => {
    const { bob } = stack.users;
    const liked = [{ userIds: [bob.user.id], type: 'post.liked' }];
    await settings.forEach(liked);
    const find = jest.spyOn(preferenceModel(stack.inspector), 'find');
    try {
      // Down: no reconnect for a moment, so the change below is published while nobody listens here.
      subscriber.disconnect(false);
      await mute(bob.token, ['post.liked']);
      expect(await settings.forEach(liked)).toEqual([new Set([bob.user.id])]);
      expect(await settings.forEach(liked)).toEqual([new Set([bob.user.id])]);
      expect(find).toHaveBeenCalledTimes(2);
      // Back and subscribed: kept again.
      await subscriber.connect();
      await waitFor(async () => expect(await subscribed()).toBe(1));
      await sleep(50);
      await settings.forEach(liked);
      const reads = find.mock.calls.length;
      expect(await settings.forEach(liked)).toEqual([new Set([bob.user.id])]);
      expect(find).toHaveBeenCalledTimes(reads);
    } finally {
      find.mockRestore();
      await mute(bob.token, []);
    }
  });

  it('tells, per request, who turned its category off as push and by email, and follows a change', async () => {
    const { alice, bob } = stack.users;
    const api = asUser(stack.herald.url, bob.token);
    await api.put('/api/preferences', { categories: { social: { push: false }, billing: { email: false } } }).expect(200);
    const requests = [
      { userIds: [alice.user.id, bob.user.id], type: 'post.liked', category: 'social' },
      { userIds: [alice.user.id, bob.user.id], type: 'invoice.due', category: 'billing' },
      { userIds: [bob.user.id], type: 'account.login', category: 'security' },
      { userIds: [bob.user.id], type: 'misc' },
    ];
    const sets = async () => (await settings.channelsOff(requests)).map(({ push, email }) => ({ push: [...push], email: [...email] }));
    expect(await sets()).toEqual([
      { push: [bob.user.id], email: [] },
      { push: [], email: [bob.user.id] },
      { push: [], email: [] },
      { push: [], email: [] },
    ]);
    // Push off is not muted in-app.
    expect((await settings.forEach(requests)).map((muted) => [...muted])).toEqual([[], [], [], []]);
    await api.put('/api/preferences', { categories: {} }).expect(200);
    await waitFor(async () => expect((await sets()).every(({ push, email }) => push.length + email.length === 0)).toBe(true));
  });
});
