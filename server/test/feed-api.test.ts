import type { FeedPage, Notification } from '@herald/shared';
import { asUser, login, type LoggedIn } from './support/http';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

describe('the feed API', () => {
  const stack = useTestStack({ users: ['alice', 'bob'] });
  const { users } = stack;

  const publishTo = async (user: LoggedIn, title: string, type = 'post.liked') => {
    const { notifications } = await stack.herald.gateway.publishNotification({ userIds: [user.user.id], type, title });
    return notifications[0]!;
  };

  it('walks the whole feed newest first, with no duplicates and no gaps, while new notifications arrive', async () => {
    const carol = await login(stack.herald.url, 'carol');
    for (let i = 1; i <= 45; i++) await publishTo(carol, `old ${i}`);
    const api = asUser(stack.herald.url, carol.token);

    const seen: Notification[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api.get(`/api/notifications?limit=10${cursor ? `&before=${cursor}` : ''}`).expect(200);
      const page = res.body as FeedPage;
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
      // New arrivals land at the top and must not shift the pages being walked.
      await publishTo(carol, `new during page ${pages}`);
    } while (cursor !== null && pages < 20);

    expect(pages).toBe(5);
    const seqs = seen.map((n) => n.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(seen.map((n) => n.id)).size).toBe(45);
    expect(seen.map((n) => n.title)).toEqual(Array.from({ length: 45 }, (_, i) => `old ${45 - i}`));
  });

  it('counts, read, unread, read-all and seen change exactly what they say', async () => {
    const user = users.alice;
    const api = asUser(stack.herald.url, user.token);
    const before = (await api.get('/api/notifications/counts').expect(200)).body;
    const a = await publishTo(user, 'a');
    await publishTo(user, 'b');
    expect((await api.get('/api/notifications/counts').expect(200)).body).toMatchObject({
      unread: before.unread + 2,
      unseen: before.unseen + 2,
    });

    const read = await api.post(`/api/notifications/${a.id}/read`).expect(200);
    expect(read.body.notification.readAt).toEqual(expect.any(String));
    expect(read.body.notification.seenAt).toEqual(expect.any(String));
    expect(read.body.counts).toMatchObject({ unread: before.unread + 1, unseen: before.unseen + 1 });
    // Reading twice keeps the first read time.
    const again = await api.post(`/api/notifications/${a.id}/read`).expect(200);
    expect(again.body.notification.readAt).toBe(read.body.notification.readAt);

    const unread = await api.post(`/api/notifications/${a.id}/unread`).expect(200);
    expect(unread.body.notification.readAt).toBeUndefined();
    expect(unread.body.counts.unread).toBe(before.unread + 2);

    expect((await api.post('/api/notifications/seen').expect(200)).body.counts).toMatchObject({ unread: before.unread + 2, unseen: 0 });
    expect((await api.post('/api/notifications/read-all').expect(200)).body.counts).toMatchObject({ unread: 0, unseen: 0 });
    const unreadOnly = (await api.get('/api/notifications?unread=true').expect(200)).body as FeedPage;
    expect(unreadOnly.items).toEqual([]);
  });

  it('archive hides from the feed and shows under archived=true; unarchive brings it back; delete removes it', async () => {
    const api = asUser(stack.herald.url, users.bob.token);
    const n = await publishTo(users.bob, 'archive me');
    const archived = await api.post(`/api/notifications/${n.id}/archive`).expect(200);
    expect(archived.body.notification.archivedAt).toEqual(expect.any(String));

    const feed = (await api.get('/api/notifications?limit=100').expect(200)).body as FeedPage;
    expect(feed.items.some((x) => x.id === n.id)).toBe(false);
    const archive = (await api.get('/api/notifications?archived=true').expect(200)).body as FeedPage;
    expect(archive.items.map((x) => x.id)).toContain(n.id);

    await api.post(`/api/notifications/${n.id}/unarchive`).expect(200);
    expect(((await api.get('/api/notifications?limit=100').expect(200)).body as FeedPage).items.some((x) => x.id === n.id)).toBe(true);

    await api.delete(`/api/notifications/${n.id}`).expect(200);
    await api.delete(`/api/notifications/${n.id}`).expect(404);
    expect((await storedNotifications(stack.inspector, users.bob.user.id)).some((d) => d._id.toHexString() === n.id)).toBe(false);
  });

  it("another user's notification id is a 404 for every action, and its content never leaks", async () => {
    const secret = await publishTo(users.bob, 'bob secret');
    const api = asUser(stack.herald.url, users.alice.token);
    for (const action of ['read', 'unread', 'archive', 'unarchive']) {
      const res = await api.post(`/api/notifications/${secret.id}/${action}`).expect(404);
      expect(res.body.error.code).toBe('not_found');
      expect(JSON.stringify(res.body)).not.toContain('bob secret');
    }
    await api.delete(`/api/notifications/${secret.id}`).expect(404);
    const aliceFeed = (await api.get('/api/notifications?limit=100').expect(200)).body as FeedPage;
    expect(aliceFeed.items.every((x) => x.userId === users.alice.user.id)).toBe(true);
    const [doc] = (await storedNotifications(stack.inspector, users.bob.user.id)).filter((d) => d._id.toHexString() === secret.id);
    expect(doc?.readAt).toBeNull();
    expect(doc?.archivedAt).toBeNull();
  });

  it('bad ids and queries get 400 with a code; no token or the service token gets 401', async () => {
    const api = asUser(stack.herald.url, users.alice.token);
    expect((await api.post('/api/notifications/not-an-id/read').expect(400)).body.error.code).toBe('invalid_id');
    expect((await api.delete('/api/notifications/123').expect(400)).body.error.code).toBe('invalid_id');
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'before=abc', 'before=-1', 'unread=yes', 'archived=1', 'sort=seq']) {
      const res = await api.get(`/api/notifications?${query}`).expect(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    await fetch(`${stack.herald.url}/api/notifications`).then((res) => expect(res.status).toBe(401));
    const service = asUser(stack.herald.url, 'test-service-token-0123456789abcdef');
    expect((await service.get('/api/notifications').expect(401)).body.error.code).toBe('invalid_token');
  });
});
