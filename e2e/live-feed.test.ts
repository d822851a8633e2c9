import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LocalRedis } from '../server/src/local-services/redis-server';
import { createLogger } from '../server/src/logger';
import { loadConfig } from '../server/src/config';
import { startHerald, type RunningHerald } from '../server/src/main';
import { TEST_JWT_SECRET, TEST_SERVICE_TOKEN } from '../server/test/support/herald';
import { freshMongoUri, startTestRedis } from '../server/test/support/services';
import { launchBrowser } from './support/browser';
import { buildClient } from './support/client-build';

const SCREENSHOTS = path.resolve(__dirname, '../test-results');

describe('the live feed in a real browser', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  let browser: Browser;
  let clientDir: string;

  beforeAll(async () => {
    clientDir = buildClient();
    redis = await startTestRedis();
    const config = loadConfig({
      PORT: '0',
      MONGODB_URI: freshMongoUri(),
      REDIS_URL: redis.url,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_TOKEN: TEST_SERVICE_TOKEN,
    });
    herald = await startHerald(config, { host: '127.0.0.1', clientDir, logger: createLogger('silent') });
    browser = await launchBrowser();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await herald?.close();
    await redis?.stop();
    if (clientDir) fs.rmSync(clientDir, { recursive: true, force: true });
  });

  async function signIn(username: string): Promise<{ page: Page; userId: string }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(herald.url);
    await page.getByTestId(`login-${username}`).click();
    await page.getByTestId('connection-state').getByText('Live').waitFor();
    const userId = await page.locator('code').first().innerText();
    return { page, userId };
  }

  async function publish(body: object): Promise<void> {
    const res = await fetch(`${herald.url}/api/notifications`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
  }

  it('a notification sent with the service token appears live in the recipient window only', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    expect(await bob.page.getByTestId('unread-badge').count()).toBe(0);

    await publish({
      userIds: [bob.userId],
      type: 'comment.created',
      title: 'Alice commented on your post',
      body: 'Lovely!',
      actor: { id: alice.userId, name: 'Alice Martin' },
    });

    await bob.page.getByTestId('unread-badge').getByText('1').waitFor({ timeout: 2000 });
    await bob.page.getByTestId('toast').getByText('Alice commented on your post').waitFor();
    await bob.page.getByTestId('bell').click();
    await bob.page.getByTestId('notification-item').getByText('Alice commented on your post').waitFor();
    await bob.page.screenshot({ path: path.join(SCREENSHOTS, 'live-feed-bob.png') });

    expect(await alice.page.getByTestId('unread-badge').count()).toBe(0);
    await alice.page.getByTestId('bell').click();
    await alice.page.getByText('You are all caught up.').waitFor();
  });

  it('titles and bodies render as text: markup in a notification runs nothing', async () => {
    const carol = await signIn('carol');
    await publish({
      userIds: [carol.userId],
      type: 'x.test',
      title: '<img src=x onerror="window.__xss=1">',
      body: '<script>window.__xss=2</script>',
    });
    await carol.page.getByTestId('bell').click();
    await carol.page.getByTestId('notification-item').getByText('<img src=x onerror="window.__xss=1">').waitFor();
    expect(await carol.page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await carol.page.locator('.hr-panel img').count()).toBe(0);
  });
});
