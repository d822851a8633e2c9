import type { Notification } from '@herald/shared';
import { asUser, login, type LoggedIn } from './support/http';
import { connect, recordNotifications } from './support/sockets';
import { sleep, waitFor } from './support/wait';
import { useTestStack } from './support/stack';

describe('the demo app notifies through publishNotification and post topics', () => {
  const stack = useTestStack();
  let alice: LoggedIn;
  let bob: LoggedIn;
  let carol: LoggedIn;

  beforeAll(async () => {
    [alice, bob, carol] = (await Promise.all(['alice', 'bob', 'carol'].map((u) => login(stack.herald.url, u)))) as [
      LoggedIn,
      LoggedIn,
      LoggedIn,
    ];
  });

  it("a comment and a like notify the post's author and followers, never the actor", async () => {
    const sockets = await Promise.all([alice, bob, carol].map((u) => connect(stack.herald.url, u.token)));
    const [toAlice, toBob, toCarol] = sockets.map(recordNotifications) as [Notification[], Notification[], Notification[]];
    const topicToCarol: string[] = [];
    sockets[2]!.on('topic:message', (m) => topicToCarol.push(m.event));

    const post = (await asUser(stack.herald.url, bob.token).post('/api/posts', { text: 'My first post' }).expect(201)).body.post;
    expect(post).toMatchObject({ author: { id: bob.user.id }, followedByMe: true, commentCount: 0 });
    await asUser(stack.herald.url, carol.token).post(`/api/posts/${post.id}/follow`).expect(200);

    await asUser(stack.herald.url, alice.token).post(`/api/posts/${post.id}/comments`, { text: 'Nice one!' }).expect(201);
    await waitFor(() => expect(toBob.map((n) => n.title)).toEqual(['Alice Martin commented on your post']));
    expect(toBob[0]).toMatchObject({
      type: 'comment.created',
      body: 'Nice one!',
      actionUrl: `/posts/${post.id}`,
      actor: { id: alice.user.id, name: 'Alice Martin' },
    });
    await waitFor(() => expect(toCarol.map((n) => n.title)).toEqual(['Alice Martin commented on a post you follow']));
    await waitFor(() => expect(topicToCarol).toContain('comment.created'));

    await asUser(stack.herald.url, alice.token).post(`/api/posts/${post.id}/like`).expect(200);
    await waitFor(() => expect(toBob.map((n) => n.type)).toEqual(['comment.created', 'post.liked']));

    // Own actions notify nobody: Bob comments on and likes his own post.
    await asUser(stack.herald.url, bob.token).post(`/api/posts/${post.id}/comments`, { text: 'Thanks!' }).expect(201);
    await asUser(stack.herald.url, bob.token).post(`/api/posts/${post.id}/like`).expect(200);
    await waitFor(() => expect(toCarol).toHaveLength(2));
    await sleep(300);
    expect(toBob).toHaveLength(2);
    expect(toAlice).toEqual([]);

    // Unlike does not notify; the post counts are right.
    const unliked = (await asUser(stack.herald.url, alice.token).post(`/api/posts/${post.id}/like`).expect(200)).body.post;
    expect(unliked).toMatchObject({ likeCount: 1, likedByMe: false, commentCount: 2 });
    const comments = (await asUser(stack.herald.url, carol.token).get(`/api/posts/${post.id}/comments`).expect(200)).body.comments;
    expect(comments.map((c: { text: string }) => c.text)).toEqual(['Nice one!', 'Thanks!']);
  });

  it('bad input is refused with the error shape', async () => {
    const api = asUser(stack.herald.url, alice.token);
    expect((await api.post('/api/posts', { text: '' }).expect(400)).body.error.code).toBe('validation_failed');
    expect((await api.post('/api/posts', { text: { $gt: '' } }).expect(400)).body.error.code).toBe('validation_failed');
    expect((await api.post('/api/posts/nope/comments', { text: 'x' }).expect(400)).body.error.code).toBe('invalid_id');
    expect((await api.post(`/api/posts/${'0'.repeat(24)}/like`).expect(404)).body.error.code).toBe('not_found');
    await fetch(`${stack.herald.url}/api/posts`).then((res) => expect(res.status).toBe(401));
  });
});
