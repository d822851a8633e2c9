import { asUser, postNotification } from './support/http';
import { connect, recordNotifications } from './support/sockets';
import { waitFor } from './support/wait';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

describe('muting notification types', () => {
  const stack = useTestStack({ users: ['alice', 'bob'], env: { CRITICAL_CATEGORIES: 'security' } });
  const { users } = stack;
  const empty = { mutedTypes: [], categories: {}, quietHours: null, critical: ['security'], channels: ['inApp'] };

  it('GET starts empty; PUT replaces the list (de-duplicated)', async () => {
    const api = asUser(stack.herald.url, users.bob.token);
    expect((await api.get('/api/preferences').expect(200)).body).toEqual(empty);
    expect((await api.put('/api/preferences', { mutedTypes: ['post.liked', 'post.liked', 'marketing.promo'] }).expect(200)).body).toEqual({
      ...empty,
      mutedTypes: ['post.liked', 'marketing.promo'],
    });
    expect((await api.get('/api/preferences').expect(200)).body).toEqual({ ...empty, mutedTypes: ['post.liked', 'marketing.promo'] });
  });

  it('a muted type is neither stored nor sent for that user; other recipients get it as usual', async () => {
    await asUser(stack.herald.url, users.bob.token)
      .put('/api/preferences', { mutedTypes: ['post.liked'] })
      .expect(200);
    const bobSocket = await connect(stack.herald.url, users.bob.token);
    const aliceSocket = await connect(stack.herald.url, users.alice.token);
    const toBob = recordNotifications(bobSocket);
    const toAlice = recordNotifications(aliceSocket);

    const res = await postNotification(stack.herald.url, {
      userIds: [users.alice.user.id, users.bob.user.id],
      type: 'post.liked',
      title: 'liked',
    }).expect(201);
    expect(res.body.notifications.map((n: { userId: string }) => n.userId)).toEqual([users.alice.user.id]);
    expect(res.body.mutedUserIds).toEqual([users.bob.user.id]);

    // A type Bob did not mute, as a fence: it arrives, the muted one never did.
    await postNotification(stack.herald.url, { userIds: [users.bob.user.id], type: 'comment.created', title: 'fence' }).expect(201);
    await waitFor(() => expect(toBob.map((n) => n.title)).toEqual(['fence']));
    await waitFor(() => expect(toAlice.map((n) => n.title)).toEqual(['liked']));
    expect((await storedNotifications(stack.inspector, users.bob.user.id)).map((d) => d.title)).toEqual(['fence']);
  });

  it('bad preferences are refused with 400 and change nothing', async () => {
    const api = asUser(stack.herald.url, users.alice.token);
    for (const body of [
      { mutedTypes: 'post.liked' },
      { mutedTypes: ['Bad Type'] },
      { mutedTypes: [{ $ne: null }] },
      { mutedTypes: [], other: 1 },
      {},
    ]) {
      expect((await api.put('/api/preferences', body).expect(400)).body.error.code).toBe('validation_failed');
    }
    expect(
      (await api.put('/api/preferences', { mutedTypes: Array.from({ length: 101 }, (_, i) => `t${i}`) }).expect(400)).body.error.code,
    ).toBe('validation_failed');
    expect((await api.get('/api/preferences').expect(200)).body).toEqual(empty);
  });
});

describe('preferences per category and channel, critical categories, quiet hours', () => {
  const stack = useTestStack({ env: { CRITICAL_CATEGORIES: 'security,billing' } });
  const token = (userId: string) => stack.herald.gateway.tokens.sign({ userId, name: userId }).token;

  it('a category turned off in-app is neither stored nor sent; the rest stay as they were', async () => {
    const userId = 'prefs-categories';
    const api = asUser(stack.herald.url, token(userId));
    await api.put('/api/preferences', { mutedTypes: ['post.liked'] }).expect(200);
    const saved = await api.put('/api/preferences', { categories: { social: { inApp: false }, mentions: { inApp: true } } }).expect(200);
    // Only the ones turned off are kept; the muted types stay.
    expect(saved.body).toMatchObject({ mutedTypes: ['post.liked'], categories: { social: { inApp: false } } });
    const socket = await connect(stack.herald.url, token(userId));
    const live = recordNotifications(socket);
    const res = await postNotification(stack.herald.url, {
      userIds: [userId, 'prefs-other'],
      type: 'comment.created',
      title: 'social',
      category: 'social',
    }).expect(201);
    expect(res.body.mutedUserIds).toEqual([userId]);
    await postNotification(stack.herald.url, { userIds: [userId], type: 'comment.created', title: 'fence', category: 'mentions' }).expect(
      201,
    );
    await waitFor(() => expect(live.map((n) => n.title)).toEqual(['fence']));
    expect((await storedNotifications(stack.inspector, userId)).map((d) => d.title)).toEqual(['fence']);
    expect((await storedNotifications(stack.inspector, 'prefs-other')).map((d) => d.title)).toEqual(['social']);

    // Sending the categories again replaces them: social is back on.
    await api.put('/api/preferences', { categories: {} }).expect(200);
    expect(
      (await postNotification(stack.herald.url, { userIds: [userId], type: 'a.b', title: 'back', category: 'social' }).expect(201)).body
        .notifications,
    ).toHaveLength(1);
  });

  it('keeps each category per channel: in-app, push and email, each on unless turned off', async () => {
    const api = asUser(stack.herald.url, token('prefs-channels'));
    const saved = await api
      .put('/api/preferences', {
        categories: { social: { push: false, email: false }, billing: { inApp: true, email: true }, digest: { email: false } },
      })
      .expect(200);
    expect(saved.body.categories).toEqual({
      social: { inApp: true, push: false, email: false },
      digest: { inApp: true, push: true, email: false },
    });
    expect((await api.get('/api/preferences').expect(200)).body.categories).toEqual(saved.body.categories);
    // Push off is not muted: the notification is stored and sent in-app as usual.
    const res = await postNotification(stack.herald.url, {
      userIds: ['prefs-channels'],
      type: 'post.liked',
      title: 'liked',
      category: 'social',
    });
    expect(res.status).toBe(201);
    expect(res.body.mutedUserIds).toEqual([]);
    // The categories sent replace the ones stored.
    expect((await api.put('/api/preferences', { categories: {} }).expect(200)).body.categories).toEqual({});
  });

  it('refuses to turn any channel of a critical category off, naming the channel', async () => {
    const api = asUser(stack.herald.url, token('prefs-critical-channels'));
    const refused = await api.put('/api/preferences', { categories: { security: { push: false, email: false } } }).expect(400);
    expect(refused.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      'categories.security.push',
      'categories.security.email',
    ]);
    expect((await api.get('/api/preferences').expect(200)).body.categories).toEqual({});
  });

  it('a critical category cannot be turned off, and reaches users who muted its type', async () => {
    const userId = 'prefs-critical';
    const api = asUser(stack.herald.url, token(userId));
    const refused = await api.put('/api/preferences', { categories: { security: { inApp: false }, social: { inApp: false } } }).expect(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('security') });
    // Refused as a whole: social was not turned off either.
    expect((await api.get('/api/preferences').expect(200)).body).toMatchObject({ categories: {}, critical: ['security', 'billing'] });
    await api.put('/api/preferences', { mutedTypes: ['account.login'] }).expect(200);
    const res = await postNotification(stack.herald.url, {
      userIds: [userId],
      type: 'account.login',
      title: 'New sign-in',
      category: 'security',
    }).expect(201);
    expect(res.body.notifications).toHaveLength(1);
    expect(res.body.mutedUserIds).toEqual([]);
    // The same type outside the critical category stays muted.
    expect(
      (await postNotification(stack.herald.url, { userIds: [userId], type: 'account.login', title: 'x' }).expect(201)).body.mutedUserIds,
    ).toEqual([userId]);
  });

  it('quiet hours are stored per user in their time zone, cleared with null, and checked', async () => {
    const api = asUser(stack.herald.url, token('prefs-quiet'));
    const quietHours = { start: '22:00', end: '07:30', timeZone: 'Europe/Paris' };
    expect((await api.put('/api/preferences', { quietHours }).expect(200)).body.quietHours).toEqual(quietHours);
    expect((await api.get('/api/preferences').expect(200)).body.quietHours).toEqual(quietHours);
    for (const bad of [
      { ...quietHours, timeZone: 'Mars/Olympus' },
      { ...quietHours, start: '24:00' },
      { ...quietHours, end: '7:30' },
      { start: '22:00', end: '07:00' },
    ]) {
      expect((await api.put('/api/preferences', { quietHours: bad }).expect(400)).body.error.code).toBe('validation_failed');
    }
    expect((await api.put('/api/preferences', { quietHours: null }).expect(200)).body.quietHours).toBeNull();
  });
});
