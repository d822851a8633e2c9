import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';
import { connect, recordNotifications } from './support/sockets';
import { login, postNotification, type LoggedIn } from './support/http';
import { waitFor } from './support/wait';

describe('POST /api/notifications rejects bad requests and changes nothing', () => {
  const stack = useTestStack();
  let bob: LoggedIn;

  beforeAll(async () => {
    bob = await login(stack.herald.url, 'bob');
  });

  const valid = () => ({ userIds: [bob.user.id], type: 'comment.created', title: 'Hello' });

  const badBodies: [string, () => unknown, string][] = [
    ['a missing title', () => ({ userIds: [bob.user.id], type: 'comment.created' }), 'title'],
    ['an empty title', () => ({ ...valid(), title: '   ' }), 'title'],
    ['a title that is a number', () => ({ ...valid(), title: 42 }), 'title'],
    ['userIds that is a string', () => ({ ...valid(), userIds: bob.user.id }), 'userIds'],
    ['empty userIds', () => ({ ...valid(), userIds: [] }), 'userIds'],
    ['a userId that is not an id', () => ({ ...valid(), userIds: ['bob smith'] }), 'userIds.0'],
    ['a userId that is an operator object', () => ({ ...valid(), userIds: [{ $gt: '' }] }), 'userIds.0'],
    [
      'more than 1000 recipients',
      () => ({ ...valid(), userIds: Array.from({ length: 1001 }, (_, i) => i.toString(16).padStart(24, '0')) }),
      'userIds',
    ],
    ['an oversized body text', () => ({ ...valid(), body: 'x'.repeat(2001) }), 'body'],
    ['channels with an unknown channel', () => ({ ...valid(), channels: { sms: true } }), 'channels'],
    ['push that is not a boolean', () => ({ ...valid(), channels: { push: 'yes' } }), 'channels.push'],
    [
      'an email wait over a week',
      () => ({ ...valid(), channels: { email: { unreadAfterSeconds: 604801 } } }),
      'channels.email.unreadAfterSeconds',
    ],
    ['a negative email wait', () => ({ ...valid(), channels: { email: { unreadAfterSeconds: -1 } } }), 'channels.email.unreadAfterSeconds'],
    ['a type with spaces', () => ({ ...valid(), type: 'Comment Created' }), 'type'],
    ['an unknown field', () => ({ ...valid(), priority: 'high' }), '(root)'],
    ['a javascript: actionUrl', () => ({ ...valid(), actionUrl: 'javascript:alert(1)' }), 'actionUrl'],
    // Browsers strip the tab and follow //evil.example: off-site through a "same-site path".
    ['an actionUrl path with a tab after the slash', () => ({ ...valid(), actionUrl: '/\t/evil.example' }), 'actionUrl'],
    ['an actionUrl path with a backslash', () => ({ ...valid(), actionUrl: '/\\evil.example' }), 'actionUrl'],
    ['an actor without a name', () => ({ ...valid(), actor: { id: 'u1' } }), 'actor.name'],
    ['a title with a right-to-left override', () => ({ ...valid(), title: 'invoice \u202Efdp.exe' }), 'title'],
    ['an actor name with a zero-width space', () => ({ ...valid(), actor: { id: 'u1', name: 'ad\u200Bmin' } }), 'actor.name'],
    ['data with a $ key', () => ({ ...valid(), data: { $where: '1' } }), 'data.$where'],
    ['data that is an array', () => ({ ...valid(), data: [1, 2] }), 'data'],
    ['a body that is an array', () => [valid()], '(root)'],
  ];

  it.each(badBodies)('%s -> 400 validation_failed naming the field', async (_name, body, path) => {
    const res = await postNotification(stack.herald.url, body()).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(typeof res.body.error.message).toBe('string');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+|CastError|stack/);
  });

  it('a __proto__ key in data (as sent over the wire) -> 400', async () => {
    const raw = `{"userIds":["${bob.user.id}"],"type":"a.b","title":"t","data":{"__proto__":{"polluted":true}}}`;
    const res = await postNotification(stack.herald.url, raw).set('Content-Type', 'application/json').expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('malformed JSON -> 400 invalid_json', async () => {
    const res = await postNotification(stack.herald.url, '{"userIds": [').set('Content-Type', 'application/json').expect(400);
    expect(res.body.error.code).toBe('invalid_json');
  });

  it('a request body over 64 KB -> 413 payload_too_large', async () => {
    const res = await postNotification(stack.herald.url, { ...valid(), data: { blob: 'x'.repeat(70_000) } }).expect(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('without the service token -> 401; with a wrong one -> 401; a user JWT is not a service token', async () => {
    expect((await postNotification(stack.herald.url, valid(), null).expect(401)).body.error.code).toBe('unauthorized');
    expect((await postNotification(stack.herald.url, valid(), 'wrong-token').expect(401)).body.error.code).toBe('unauthorized');
    expect((await postNotification(stack.herald.url, valid(), bob.token).expect(401)).body.error.code).toBe('unauthorized');
  });

  it('an unknown API route -> 404 in the same error shape', async () => {
    const res = await fetch(`${stack.herald.url}/api/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('after all of the above nothing was stored or pushed', async () => {
    const socket = await connect(stack.herald.url, bob.token);
    const received = recordNotifications(socket);
    // Replays a rejected request while connected, then a valid one as a fence.
    await postNotification(stack.herald.url, { ...valid(), title: 42 }).expect(400);
    await postNotification(stack.herald.url, valid(), 'wrong-token').expect(401);
    await postNotification(stack.herald.url, { ...valid(), title: 'fence' }).expect(201);
    await waitFor(() => expect(received).toHaveLength(1));
    expect(received[0]?.title).toBe('fence');
    const stored = await storedNotifications(stack.inspector, bob.user.id);
    expect(stored.map((d) => d.title)).toEqual(['fence']);
  });
});
