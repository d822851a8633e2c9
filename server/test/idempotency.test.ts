import { asUser, postNotification } from './support/http';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

describe('Idempotency-Key on publish', () => {
  const stack = useTestStack({ instances: 2, users: ['alice', 'bob'] });
  const { users } = stack;

  const body = () => ({ userIds: [users.alice.user.id, users.bob.user.id], type: 'order.shipped', title: 'Your order shipped' });

  it('two concurrent POSTs with the same key (on two instances) store one notification per recipient and answer the same', async () => {
    const key = `order-42-shipped-${Date.now()}`;
    const [first, second] = await Promise.all(
      stack.instances.map((instance) => postNotification(instance.url, body()).set('Idempotency-Key', key)),
    );
    expect(first!.status).toBe(201);
    expect(second!.status).toBe(201);
    expect(second!.body.notifications).toEqual(first!.body.notifications);

    const third = await postNotification(stack.herald.url, body()).set('Idempotency-Key', key).expect(201);
    expect(third.body.notifications.map((n: { id: string }) => n.id)).toEqual(first!.body.notifications.map((n: { id: string }) => n.id));

    for (const user of [users.alice, users.bob]) {
      const stored = (await storedNotifications(stack.inspector, user.user.id)).filter((d) => d.title === 'Your order shipped');
      expect(stored).toHaveLength(1);
    }
  });

  it('the same key with a different request is a 409 conflict and stores nothing', async () => {
    const key = `conflict-${Date.now()}`;
    await postNotification(stack.herald.url, body()).set('Idempotency-Key', key).expect(201);
    const res = await postNotification(stack.herald.url, { ...body(), title: 'Something else' })
      .set('Idempotency-Key', key)
      .expect(409);
    expect(res.body.error.code).toBe('conflict');
    expect((await storedNotifications(stack.inspector, users.bob.user.id)).some((d) => d.title === 'Something else')).toBe(false);
  });

  it('the same key with a different request for partly other recipients is a 409 and stores nothing for any of them', async () => {
    const key = `overlap-${Date.now()}`;
    // More than one write's worth of others (withdrawn 50 at a time).
    const others = Array.from({ length: 60 }, (_, i) => `other-${i}-${Date.now()}`);
    await postNotification(stack.herald.url, { userIds: [users.alice.user.id], type: 'order.overlap', title: 'First' })
      .set('Idempotency-Key', key)
      .expect(201);
    const res = await postNotification(stack.herald.url, {
      userIds: [...others, users.alice.user.id],
      type: 'order.overlap',
      title: 'Other',
    })
      .set('Idempotency-Key', key)
      .expect(409);
    expect(res.body.error.code).toBe('conflict');
    const notifications = stack.inspector.collection('notifications');
    expect(await notifications.countDocuments({ userId: { $in: others }, gap: { $exists: false } })).toBe(0);
    expect(await notifications.countDocuments({ userId: { $in: others }, gap: true })).toBe(others.length);
    expect(await notifications.countDocuments({ type: 'order.overlap', gap: { $exists: false } })).toBe(1);
  });

  it('a key outlives its notification being deleted: the same request again stores nothing', async () => {
    const key = `deleted-${Date.now()}`;
    const input = { userIds: [users.bob.user.id], type: 'order.deleted', title: 'Delete me' };
    const first = await postNotification(stack.herald.url, input).set('Idempotency-Key', key).expect(201);
    await asUser(stack.herald.url, users.bob.token).delete(`/api/notifications/${first.body.notifications[0].id}`).expect(200);
    const again = await postNotification(stack.herald.url, input).set('Idempotency-Key', key).expect(201);
    expect(again.body).toMatchObject({ notifications: [], replayed: true });
    expect(await stack.inspector.collection('notifications').countDocuments({ type: 'order.deleted', gap: { $exists: false } })).toBe(0);
  });

  it('a keyed publish with a dedupeKey replays its own copy and still deduplicates the others', async () => {
    const dedupeKey = `like-${Date.now()}`;
    // Bob already has one with the dedupeKey, from another publish.
    await postNotification(stack.herald.url, { userIds: [users.bob.user.id], type: 'post.liked', title: 'Liked', dedupeKey }).expect(201);
    const input = { userIds: [users.alice.user.id, users.bob.user.id], type: 'post.liked', title: 'Liked', dedupeKey };
    const key = `liked-${Date.now()}`;
    const first = await postNotification(stack.herald.url, input).set('Idempotency-Key', key).expect(201);
    expect(first.body).toMatchObject({ deduplicatedUserIds: [users.bob.user.id], replayed: false });
    const again = await postNotification(stack.herald.url, input).set('Idempotency-Key', key).expect(201);
    expect(again.body).toMatchObject({ deduplicatedUserIds: [users.bob.user.id], replayed: true });
    expect(again.body.notifications.map((n: { id: string }) => n.id)).toEqual(first.body.notifications.map((n: { id: string }) => n.id));
    expect(await stack.inspector.collection('notifications').countDocuments({ dedupeKey, gap: { $exists: false } })).toBe(2);
  });

  it('the same request with its keys or recipients in another order is the same request: replayed, not a conflict', async () => {
    const key = `order-${Date.now()}`;
    const recipients = [users.bob.user.id, users.alice.user.id];
    const first = `{"userIds":${JSON.stringify(recipients)},"type":"order.test","title":"Same","data":{"a":1,"b":{"c":2,"d":3}}}`;
    const again = `{"data":{"b":{"d":3,"c":2},"a":1},"title":"Same","type":"order.test","userIds":${JSON.stringify([...recipients].reverse())}}`;
    const once = await postNotification(stack.herald.url, first)
      .set('Content-Type', 'application/json')
      .set('Idempotency-Key', key)
      .expect(201);
    const twice = await postNotification(stack.herald.url, again)
      .set('Content-Type', 'application/json')
      .set('Idempotency-Key', key)
      .expect(201);
    expect(twice.headers['idempotent-replayed']).toBe('true');
    expect(twice.body.notifications.map((n: { id: string }) => n.id).sort()).toEqual(
      once.body.notifications.map((n: { id: string }) => n.id).sort(),
    );
    expect(await stack.inspector.collection('notifications').countDocuments({ type: 'order.test' })).toBe(2);
  });

  it('the library takes the same key option', async () => {
    const key = `lib-${Date.now()}`;
    const input = { userIds: [users.bob.user.id], type: 'payment.completed', title: 'Paid' };
    const once = await stack.herald.gateway.publishNotification(input, { idempotencyKey: key });
    const twice = await stack.herald.gateway.publishNotification(input, { idempotencyKey: key });
    expect(once.replayed).toBe(false);
    expect(twice.replayed).toBe(true);
    expect(twice.notifications.map((n) => n.id)).toEqual(once.notifications.map((n) => n.id));
  });

  it('a malformed key is a 400', async () => {
    const res = await postNotification(stack.herald.url, body()).set('Idempotency-Key', 'has spaces in it').expect(400);
    expect(res.body.error.code).toBe('validation_failed');
  });
});
