import type { BrowserContext, Page } from 'playwright-core';
import webpush from 'web-push';
import { TEST_SERVICE_TOKEN } from '../server/test/support/herald';
import { startPushService, type PushService } from '../server/test/support/push-service';
import { useDemoStack } from './support/demo-stack';

jest.setTimeout(60_000);

/**
 * Desktop notifications in chromium: the bell's offer, Herald's service worker registered by
 * enablePush, and a message the real pipeline sent (publish → push stage → a loopback push service,
 * which decrypts it as a browser would) delivered to the worker through the DevTools protocol, since a
 * headless browser on a closed network has no push service of its own.
 */
describe('desktop notifications in a real browser', () => {
  let pushService: PushService;
  const vapid = webpush.generateVAPIDKeys();
  beforeAll(async () => {
    pushService = await startPushService();
  });
  const demo = useDemoStack(
    () => ({
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:ops@example.com',
      PUSH_SERVICE_ORIGINS: pushService.origin,
    }),
    { jobsIntervalMs: 100 },
  );
  const contexts: BrowserContext[] = [];
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await pushService?.close();
  });

  async function signIn(username: string, permissions: string[]): Promise<{ page: Page; userId: string; context: BrowserContext }> {
    const context = await demo.browser.newContext({ viewport: { width: 1100, height: 760 } });
    contexts.push(context);
    if (permissions.length > 0) await context.grantPermissions(permissions, { origin: demo.herald.url });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(demo.herald.url);
    // The provider asks Herald whether push is configured as it starts.
    const asked = page.waitForResponse((response) => response.url().endsWith('/api/push/vapid-public-key'));
    await page.getByTestId(`login-${username}`).click();
    expect((await asked).status()).toBe(200);
    await page.getByTestId('connection-state').getByText('Live').waitFor();
    const userId = (await page.getByTestId('current-user').getAttribute('data-user-id'))!;
    return { page, userId, context };
  }

  it('offers desktop notifications while the browser has not asked, and not once permission is decided', async () => {
    const undecided = await signIn('alice', []);
    await undecided.page.getByTestId('bell').click();
    await undecided.page.getByTestId('push-offer').getByText('Enable desktop notifications').waitFor();

    const granted = await signIn('bob', ['notifications']);
    await granted.page.getByTestId('bell').click();
    await granted.page.getByRole('dialog', { name: 'Notifications' }).waitFor();
    expect(await granted.page.getByTestId('push-offer').count()).toBe(0);
  });

  it('shows a message the pipeline pushed, through the service worker enablePush registered', async () => {
    const { page, userId, context } = await signIn('carol', []);
    await page.getByTestId('bell').click();
    const offer = page.getByTestId('push-offer');
    await offer.getByText('Enable desktop notifications').waitFor();
    // The user says yes. enablePush then registers the worker and subscribes: a headless browser on a
    // closed network has no push service of its own, so that last step fails here and the offer says
    // so (a real browser gets its subscription); the test's push service stands in for it below.
    await context.grantPermissions(['notifications'], { origin: demo.herald.url });
    await offer.getByRole('button').click();
    await offer.getByText('Desktop notifications could not be enabled here.').waitFor();
    const registration = await page.evaluate(async () => {
      const ready = await navigator.serviceWorker.ready;
      return { scope: ready.scope, script: ready.active?.scriptURL };
    });
    expect(registration).toEqual({ scope: `${demo.herald.url}/`, script: `${demo.herald.url}/herald-sw.js` });

    // The pipeline: a subscription on the loopback push service, a publish asking for push.
    const browserKeys = pushService.subscribe();
    const token = demo.herald.gateway.tokens!.sign({ userId, name: 'Carol' }).token;
    const subscribe = await fetch(`${demo.herald.url}/api/push/subscriptions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ endpoint: browserKeys.endpoint, keys: browserKeys.keys }),
    });
    expect(subscribe.status).toBe(201);
    const published = await fetch(`${demo.herald.url}/api/notifications`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        userIds: [userId],
        type: 'order.shipped',
        title: 'Your order has shipped',
        body: 'Parcel 42 is on its way',
        actionUrl: '/orders/42',
        channels: { push: true },
      }),
    });
    expect(published.status).toBe(201);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !pushService.received.some((push) => push.subscription === browserKeys.id)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const pushed = pushService.received.find((push) => push.subscription === browserKeys.id);
    expect(pushed).toBeDefined();

    // That message, delivered to the registered worker as a push service would.
    const cdp = await context.newCDPSession(page);
    const registrations = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => {
        const ours = list.find((r: { scopeURL: string; isDeleted: boolean }) => r.scopeURL === `${demo.herald.url}/` && !r.isDeleted);
        if (ours) resolve(ours.registrationId);
      });
    });
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: demo.herald.url,
      registrationId: await registrations,
      data: JSON.stringify(pushed!.payload),
    });
    const shown = await page.waitForFunction(async () => {
      const list = await (await navigator.serviceWorker.ready).getNotifications();
      return list.length > 0 ? list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as unknown })) : null;
    });
    const id = (pushed!.payload as { id: string }).id;
    expect(await shown.jsonValue()).toEqual([
      { title: 'Your order has shipped', body: 'Parcel 42 is on its way', tag: id, data: { id, url: '/orders/42' } },
    ]);
  });
});
