import webpush from 'web-push';
import { createPushSender, retryAfterMs, type PushMessage } from '../src/push/push-sender';
import { pushConfigFor, startPushService, type PushService } from './support/push-service';

const vapid = webpush.generateVAPIDKeys();
let service: PushService;
let send: ReturnType<typeof createPushSender>;
const message: PushMessage = { payload: JSON.stringify({ title: 'Ada replied', body: 'Looks good' }), ttlSeconds: 3600, urgency: 'normal' };

beforeAll(async () => {
  service = await startPushService();
  send = createPushSender(pushConfigFor(service, vapid));
});
afterAll(() => service.close());

describe('sending one Web Push message to a real push service', () => {
  it('is signed with VAPID, encrypted with aes128gcm to the subscription, and carries TTL, urgency and topic', async () => {
    const browser = service.subscribe();
    expect(await send(browser, { ...message, urgency: 'high', topic: 'group-abc' })).toEqual({ status: 'sent' });
    const got = service.received.find((push) => push.subscription === browser.id)!;
    expect(got.payload).toEqual({ title: 'Ada replied', body: 'Looks good' });
    expect(got.headers).toEqual({ ttl: '3600', urgency: 'high', topic: 'group-abc' });
    expect(got.vapid).toMatchObject({ sub: 'mailto:ops@example.com', aud: service.origin, publicKey: vapid.publicKey });
  });

  it('signs one VAPID token per push service and reuses it for hours, not one per message', async () => {
    const [one, two] = [service.subscribe(), service.subscribe()];
    await send(one, message);
    await send(two, message);
    const [first, second] = [one, two].map((browser) => service.received.find((push) => push.subscription === browser.id)!.vapid);
    expect(second!.token).toBe(first!.token);
    const hoursLeft = (first!.exp * 1000 - Date.now()) / 3600_000;
    expect(hoursLeft).toBeGreaterThan(11);
    expect(hoursLeft).toBeLessThanOrEqual(12);
  });

  it('tells a busy or failing service (retry, with its Retry-After) from a gone subscription and a refusal', async () => {
    const browser = service.subscribe();
    service.script(
      browser.id,
      { status: 500 },
      { status: 429, headers: { 'Retry-After': '7' } },
      { status: 301, headers: { Location: 'https://127.0.0.1:1/elsewhere' } },
      { status: 400 },
    );
    expect(await send(browser, message)).toEqual({ status: 'retry', reason: 'push service answered 500' });
    expect(await send(browser, message)).toEqual({ status: 'retry', reason: 'push service answered 429', afterMs: 7000 });
    // A redirect is not followed: the service said where, Herald does not go there.
    expect(await send(browser, message)).toEqual({ status: 'refused', reason: 'push service answered 301' });
    expect(await send(browser, message)).toEqual({ status: 'refused', reason: 'push service answered 400' });
    expect(await send(browser, message)).toEqual({ status: 'sent' });
    service.revoke(browser.id);
    expect(await send(browser, message)).toEqual({ status: 'gone', statusCode: 410 });
  });

  it('counts a service that does not answer as one to retry', async () => {
    const nowhere = { endpoint: 'https://127.0.0.1:1/push/x', keys: service.subscribe().keys };
    expect(await send(nowhere, message)).toMatchObject({ status: 'retry' });
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('120')).toBe(120_000);
    expect(retryAfterMs(new Date(Date.UTC(2026, 0, 1, 0, 1)).toUTCString(), Date.UTC(2026, 0, 1))).toBe(60_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
