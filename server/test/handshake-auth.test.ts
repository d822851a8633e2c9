import jwt from 'jsonwebtoken';
import { useTestStack } from './support/stack';
import { connect } from './support/sockets';
import { login, type LoggedIn } from './support/http';
import { TEST_JWT_SECRET } from './support/herald';

interface ConnectError extends Error {
  data?: { code: string; message: string };
}

async function refusal(url: string, token: string | undefined): Promise<ConnectError> {
  try {
    await connect(url, token);
  } catch (error) {
    return error as ConnectError;
  }
  throw new Error('the handshake was accepted');
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('the Socket.IO handshake is authenticated', () => {
  const stack = useTestStack();
  let bob: LoggedIn;

  beforeAll(async () => {
    bob = await login(stack.herald.url, 'bob');
  });

  it('without a token: refused with code unauthorized', async () => {
    const error = await refusal(stack.herald.url, undefined);
    expect(error.message).toMatch(/token/i);
    expect(error.data?.code).toBe('unauthorized');
  });

  it('with a bad signature: refused with code invalid_token', async () => {
    const forged = jwt.sign({ name: 'Bob' }, 'some-other-secret-that-is-long-enough!!', { subject: bob.user.id, expiresIn: 600 });
    const error = await refusal(stack.herald.url, forged);
    expect(error.data?.code).toBe('invalid_token');
  });

  it('with an expired token: refused with code token_expired', async () => {
    const expired = jwt.sign({ name: 'Bob', exp: Math.floor(Date.now() / 1000) - 60 }, TEST_JWT_SECRET, { subject: bob.user.id });
    const error = await refusal(stack.herald.url, expired);
    expect(error.data?.code).toBe('token_expired');
    expect(error.message).toMatch(/expired/i);
  });

  it('with alg none: refused with code invalid_token', async () => {
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: bob.user.id, name: 'Bob', exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    const error = await refusal(stack.herald.url, unsigned);
    expect(error.data?.code).toBe('invalid_token');
  });

  it('with the right secret but another algorithm (HS512): refused', async () => {
    const hs512 = jwt.sign({ name: 'Bob' }, TEST_JWT_SECRET, { subject: bob.user.id, expiresIn: 600, algorithm: 'HS512' });
    const error = await refusal(stack.herald.url, hs512);
    expect(error.data?.code).toBe('invalid_token');
  });

  it('with a subject that is not a user id, or a token that is not a string: refused', async () => {
    const weird = jwt.sign({ name: 'Bob' }, TEST_JWT_SECRET, { subject: 'user bob', expiresIn: 600 });
    expect((await refusal(stack.herald.url, weird)).data?.code).toBe('invalid_token');
    expect((await refusal(stack.herald.url, { $gt: '' } as unknown as string)).data?.code).toBe('unauthorized');
  });

  it('stays up after refusals and accepts a valid token', async () => {
    for (let i = 0; i < 20; i++) await refusal(stack.herald.url, `garbage.${i}.token`);
    const socket = await connect(stack.herald.url, bob.token);
    expect(socket.connected).toBe(true);
    await fetch(`${stack.herald.url}/healthz`).then((res) => expect(res.status).toBe(200));
  });
});
