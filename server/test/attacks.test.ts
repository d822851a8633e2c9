import net from 'node:net';
import { WebSocket } from 'ws';
import type { ErrorBody } from '@herald/shared';
import { connect, recordNotifications, type ClientSocket } from './support/sockets';
import { sleep, waitFor } from './support/wait';
import { useTestStack } from './support/stack';

/** Opens a raw engine.io WebSocket (below socket.io-client), for packets a real client would never send. */
function rawSocket(
  baseUrl: string,
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; closed: Promise<number>; error: Promise<Error> }> {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, { headers });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const error = new Promise<Error>((resolve) => ws.once('error', resolve));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed, error }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('attacks on the gateway', () => {
  const stack = useTestStack({ users: ['alice', 'bob'] });
  const { users } = stack;

  /** A connected bystander who must keep getting notifications through every attack. */
  async function bystanderStillServed(socket: ClientSocket, got: { title: string }[], title: string): Promise<void> {
    await stack.herald.gateway.publishNotification({ userIds: [users.bob.user.id], type: 'a.b', title });
    await waitFor(() => expect(got.map((n) => n.title)).toContain(title));
  }

  it('1,000 handshakes with bad tokens are refused, memory stays flat, and real clients are unaffected', async () => {
    const bystander = await connect(stack.herald.url, users.bob.token);
    const got = recordNotifications(bystander);
    const heapBefore = process.memoryUsage().heapUsed;
    let refused = 0;
    for (let batch = 0; batch < 20; batch++) {
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => connect(stack.herald.url, `forged.${batch}.${i}`)));
      refused += results.filter((r) => r.status === 'rejected' && (r.reason as { data?: ErrorBody }).data?.code === 'invalid_token').length;
      if (batch === 10) await bystanderStillServed(bystander, got, 'during the storm');
    }
    expect(refused).toBe(1000);
    expect(stack.herald.gateway.io.of('/').sockets.size).toBe(1);
    const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    expect(grownMb).toBeLessThan(40);
    await bystanderStillServed(bystander, got, 'after the storm');
  });

  it('a disallowed Origin is refused on both polling and websocket; the page origin is allowed', async () => {
    const polling = await fetch(`${stack.herald.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: 'http://evil.example' } });
    expect(polling.status).toBe(403);
    // engine.io answers a refused upgrade with 400 (polling gets 403); either way no socket opens.
    await expect(rawSocket(stack.herald.url, { Origin: 'http://evil.example' })).rejects.toThrow(/HTTP 40[03]/);

    const sameOrigin = await fetch(`${stack.herald.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: stack.herald.url } });
    expect(sameOrigin.status).toBe(200);
    const { ws } = await rawSocket(stack.herald.url, { Origin: stack.herald.url });
    ws.close();
  });

  it('a socket that floods events is rate-limited, then disconnected with a clear error; others are unaffected', async () => {
    const bystander = await connect(stack.herald.url, users.bob.token);
    const got = recordNotifications(bystander);
    const flooder = await connect(stack.herald.url, users.alice.token);
    const serverErrors: ErrorBody[] = [];
    flooder.on('server:error', (e) => serverErrors.push(e));
    const disconnected = new Promise<string>((resolve) => flooder.once('disconnect', resolve));

    const acks: Promise<{ error?: ErrorBody }>[] = [];
    for (let i = 0; i < 200; i++)
      acks.push(
        flooder
          .timeout(5000)
          .emitWithAck('notifications:sync', { afterSeq: 0 })
          .catch(() => ({ error: { code: 'internal', message: 'no ack' } as ErrorBody })),
      );
    expect(await disconnected).toBe('io server disconnect');
    expect(serverErrors).toEqual([expect.objectContaining({ code: 'rate_limited' })]);
    const answers = await Promise.all(acks);
    expect(answers.filter((a) => a.error?.code === 'rate_limited').length).toBeGreaterThan(0);
    await bystanderStillServed(bystander, got, 'after the flood');
  });

  it('events that are not client events (unknown names, inherited property names, server events) are ignored', async () => {
    const socket = await connect(stack.herald.url, users.alice.token);
    const raw = socket as unknown as { emit: (event: string, ...args: unknown[]) => void };
    const answered: string[] = [];
    for (const event of ['nope', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'notification', 'connection', 'valueOf']) {
      raw.emit(event, { afterSeq: 0 }, () => answered.push(event));
    }
    // The socket is still connected and served: its next real event is answered.
    const synced = await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    expect(synced.error).toBeUndefined();
    await sleep(100);
    expect(answered).toEqual([]);
    expect(socket.connected).toBe(true);
  });

  it('an oversized packet closes that socket only', async () => {
    const bystander = await connect(stack.herald.url, users.bob.token);
    const got = recordNotifications(bystander);
    const attacker = await connect(stack.herald.url, users.alice.token);
    const reason = new Promise<string>((resolve) => attacker.once('disconnect', resolve));
    (attacker as unknown as { emit: (e: string, p: unknown) => void }).emit('notifications:sync', {
      afterSeq: 0,
      pad: 'x'.repeat(200_000),
    });
    expect(await reason).toMatch(/transport (close|error)/);
    await bystanderStillServed(bystander, got, 'after the big packet');
  });

  it('malformed packets close that connection only, and the server stays up', async () => {
    const bystander = await connect(stack.herald.url, users.bob.token);
    const got = recordNotifications(bystander);
    for (const garbage of ['42["unclosed', '4{not json}', '40{"token":', '\u0000\u0001\u0002', '49999999']) {
      const { ws, closed } = await rawSocket(stack.herald.url);
      ws.send(garbage);
      await closed;
    }
    await bystanderStillServed(bystander, got, 'after garbage');
    expect((await fetch(`${stack.herald.url}/healthz`)).status).toBe(200);
  });
});

describe('slow clients cannot hold a request', () => {
  const stack = useTestStack({ env: { HTTP_HEADERS_TIMEOUT_SECONDS: '1', HTTP_REQUEST_TIMEOUT_SECONDS: '2' } });

  /** Sends `data` on a raw connection and never finishes the request; resolves with what came back and when. */
  function holdRequest(data: string): Promise<{ response: string; afterMs: number }> {
    const started = Date.now();
    const { port } = new URL(stack.herald.url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(data));
      let response = '';
      socket.on('data', (chunk) => (response += chunk.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve({ response, afterMs: Date.now() - started }));
    });
  }

  it('a body that never finishes: 408 and the connection closed, after the request timeout', async () => {
    const held = await holdRequest(
      'POST /api/notifications HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"userIds":',
    );
    expect(held.response).toMatch(/^HTTP\/1\.1 408 /);
    // Node's default would hold it for 300 s; the configured 2 s, checked every second, closes it within ~3.
    expect(held.afterMs).toBeGreaterThanOrEqual(1900);
    expect(held.afterMs).toBeLessThan(10_000);
  });

  it('headers that never finish: 408 and the connection closed, after the headers timeout', async () => {
    const held = await holdRequest('GET /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(held.response).toMatch(/^HTTP\/1\.1 408 /);
    expect(held.afterMs).toBeGreaterThanOrEqual(900);
    expect(held.afterMs).toBeLessThan(10_000);
  });

  it('a request sent in time is served', async () => {
    const res = await fetch(`${stack.herald.url}/api/config`);
    expect(res.status).toBe(200);
  });
});
