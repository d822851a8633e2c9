import { asUser, postNotification } from './support/http';
import { connect, recordNotifications } from './support/sockets';
import { waitFor } from './support/wait';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

describe('muting notification types', () => {
  const stack = useTestStack({ users: ['alice', 'bob'] });
  const { users } = stack;

  it('GET starts empty; PUT replaces the list (de-duplicated)', async () => {
    const api = asUser(stack.herald.url, users.bob.token);
    expect((await api.get('/api/preferences').expect(200)).body).toEqual({ mutedTypes: [] });
    expect((await api.put('/api/preferences', { mutedTypes: ['post.liked', 'post.liked', 'marketing.promo'] }).expect(200)).body).toEqual({
      mutedTypes: ['post.liked', 'marketing.promo'],
    });
    expect((await api.get('/api/preferences').expect(200)).body).toEqual({ mutedTypes: ['post.liked', 'marketing.promo'] });
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
    expect((await api.get('/api/preferences').expect(200)).body).toEqual({ mutedTypes: [] });
  });
});
