import mongoose from 'mongoose';
import { login } from './support/clients';
import { useTestStack } from './support/stack';

describe('per-user seq under concurrency', () => {
  const stack = useTestStack({ instances: 2 });

  it('the unique (userId, seq) index exists once a gateway has started', async () => {
    const indexes = await stack.inspector.collection('notifications').indexes();
    expect(indexes).toContainEqual(expect.objectContaining({ key: { userId: 1, seq: 1 }, unique: true }));
  });

  it('120 concurrent publishes to one user through two instances get 120 different seqs', async () => {
    const bob = await login(stack.herald.url, 'bob');
    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        stack.instances[i % 2]!.gateway.publishNotification({ userIds: [bob.user.id], type: 'post.liked', title: `like ${i}` }),
      ),
    );
    const returned = results.map((r) => r.notifications[0]!.seq);
    expect(new Set(returned).size).toBe(120);
    const stored = await stack.inspector
      .collection('notifications')
      .find({ userId: new mongoose.Types.ObjectId(bob.user.id) })
      .toArray();
    expect(stored).toHaveLength(120);
    expect(new Set(stored.map((d) => d.seq)).size).toBe(120);
    expect(stored.map((d) => d.seq as number).sort((a, b) => a - b)).toEqual([...returned].sort((a, b) => a - b));
  });
});
