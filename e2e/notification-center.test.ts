import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { userRoom } from '@herald/shared';
import type { LocalRedis } from '../server/src/local-services/redis-server';
import { createLogger } from '../server/src/platform/logger';
import { loadConfig } from '../server/src/config';
import { startHerald, type RunningHerald } from '../server/src/main';
import { LOOPBACK_CLIENTS_ENV, TEST_JWT_SECRET, TEST_SERVICE_TOKEN } from '../server/test/support/herald';
import { freshMongoUri, startTestRedis } from '../server/test/support/services';
import { launchBrowser } from './support/browser';
import { buildClient } from './support/client-build';

const SCREENSHOTS = path.resolve(__dirname, '../test-results');

// Browser steps are slow when the machine is loaded by the other suites.
jest.setTimeout(60_000);

describe('the notification center and the demo app in a real browser', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  let browser: Browser;
  let clientDir: string;
  let mongodbUri: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    clientDir = buildClient();
    redis = await startTestRedis();
    const config = loadConfig({
      PORT: '0',
      MONGODB_URI: (mongodbUri = freshMongoUri()),
      REDIS_URL: redis.url,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_TOKEN: TEST_SERVICE_TOKEN,
      // The demo app is what these tests drive: on explicitly, as a production deployment would have to.
      DEMO: 'true',
      // The demo's settings list an Account category; critical here, so it shows as always on.
      CRITICAL_CATEGORIES: 'account',
      ...LOOPBACK_CLIENTS_ENV,
    });
    herald = await startHerald(config, { host: '127.0.0.1', clientDir, logger: createLogger('silent'), retention: false });
    browser = await launchBrowser();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await herald?.close();
    await redis?.stop();
    if (clientDir) fs.rmSync(clientDir, { recursive: true, force: true });
  });

  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    contexts.push(context);
    return context;
  }

  /** Opens a tab in the context and signs in (sessionStorage is per tab, like a person opening a new tab and signing in). */
  async function signIn(context: BrowserContext, username: string): Promise<{ page: Page; userId: string }> {
    const page = await context.newPage();
    // Shorter than jest's limit, so a stuck wait fails with the locator it was waiting for.
    page.setDefaultTimeout(20_000);
    await page.goto(herald.url);
    await page.getByTestId(`login-${username}`).click();
    await page.getByTestId('connection-state').getByText('Live').waitFor();
    const userId = (await page.getByTestId('current-user').getAttribute('data-user-id'))!;
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

  const badge = (page: Page) => page.getByTestId('unread-badge');

  it("A comments on B's post: B's badge goes up and a toast shows within a second, without reload; A gets nothing; then B reads it and B's other tab follows", async () => {
    const bobContext = await newContext();
    const bob = await signIn(bobContext, 'bob');
    await bob.page.getByTestId('composer').fill('Sunset over the harbour tonight');
    await bob.page.getByTestId('publish-post').click();
    await bob.page.getByTestId('post').first().getByText('Sunset over the harbour tonight').waitFor();
    const bobTab2 = await signIn(bobContext, 'bob');

    const alice = await signIn(await newContext(), 'alice');
    const post = alice.page.getByTestId('post').filter({ hasText: 'Sunset over the harbour tonight' });
    await post.getByTestId('comments-toggle').click();
    await post.getByTestId('comment-input').fill('Gorgeous colours!');
    const sent = Date.now();
    await post.getByTestId('comment-submit').click();

    await badge(bob.page).getByText('1').waitFor({ timeout: 1000 });
    await bob.page.getByTestId('toast').getByText('Alice Martin commented on your post').waitFor({ timeout: 1000 });
    expect(Date.now() - sent).toBeLessThan(1500);
    await badge(bobTab2.page).getByText('1').waitFor({ timeout: 1000 });
    await bob.page.screenshot({ path: path.join(SCREENSHOTS, 'demo-app.png') });
    expect(await badge(alice.page).count()).toBe(0);

    // B opens the panel and clicks the notification: it is read, the badge goes, the other tab follows.
    await bob.page.getByTestId('bell').click();
    const item = bob.page.getByTestId('notification-item').filter({ hasText: 'Alice Martin commented on your post' });
    await item.waitFor();
    await bob.page.screenshot({ path: path.join(SCREENSHOTS, 'notification-panel.png') });
    await item.getByTestId('notification-open').click();
    await bob.page.waitForURL(/\/posts\/[0-9a-f]{24}$/);
    await badge(bob.page).waitFor({ state: 'detached' });
    await badge(bobTab2.page).waitFor({ state: 'detached', timeout: 2000 });
    await bobTab2.page.getByTestId('bell').click();
    await bobTab2.page.locator('[data-testid="notification-item"][data-read="true"]').first().waitFor();
  });

  it('B goes offline, three notifications are sent, B comes back: exactly three new items, once each, badge right', async () => {
    const context = await newContext();
    const carol = await signIn(context, 'carol');
    await publish({ userIds: [carol.userId], type: 'warmup.one', title: 'before going offline' });
    await badge(carol.page).getByText('1').waitFor();

    await context.setOffline(true);
    for (const socket of await herald.gateway.io.in(userRoom(carol.userId)).fetchSockets()) socket.disconnect(true);
    await carol.page.getByTestId('connection-state').getByText('Offline').waitFor();
    for (const n of [1, 2, 3]) await publish({ userIds: [carol.userId], type: 'offline.test', title: `missed ${n}` });
    expect(await badge(carol.page).innerText()).toBe('1');

    await context.setOffline(false);
    await carol.page.getByTestId('connection-state').getByText('Live').waitFor({ timeout: 15_000 });
    await badge(carol.page).getByText('4').waitFor();
    await carol.page.getByTestId('bell').click();
    const titles = await carol.page.getByTestId('notification-item').locator('.hr-item-title').allInnerTexts();
    expect(titles).toEqual(['missed 3', 'missed 2', 'missed 1', 'before going offline']);
  }, 60_000);

  it('titles and bodies render as text: markup in a notification runs nothing', async () => {
    const carol = await signIn(await newContext(), 'carol');
    await publish({
      userIds: [carol.userId],
      type: 'x.test',
      title: '<img src=x onerror="window.__xss=1">',
      body: '<script>window.__xss=2</script>',
    });
    // Live (a toast) or in the first catch-up when it raced the sign-in (the badge): either way it is here.
    await carol.page.getByTestId('toast').or(badge(carol.page)).first().waitFor();
    await carol.page.getByTestId('bell').click();
    await carol.page.getByTestId('notification-item').getByText('<img src=x onerror="window.__xss=1">').waitFor();
    expect(await carol.page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await carol.page.locator('.hr-root img, .hr-root script').count()).toBe(0);
  });

  it('tabs: each lists its category, its badge follows reads and new arrivals live, arrow keys move between tabs', async () => {
    const carol = await signIn(await newContext(), 'carol');
    const { page } = carol;
    await publish({ userIds: [carol.userId], type: 'tab.test', title: 'tab mine 1', category: 'your-posts' });
    for (const n of [1, 2]) await publish({ userIds: [carol.userId], type: 'tab.test', title: `tab follow ${n}`, category: 'following' });
    await page.getByTestId('bell').click();
    const following = page.getByTestId('tab-2');
    await following.locator('.hr-tab-badge').getByText('2').waitFor();
    await following.click();
    expect(await following.getAttribute('aria-selected')).toBe('true');
    const titles = () => page.getByTestId('notification-item').locator('.hr-item-title').allInnerTexts();
    expect(await titles()).toEqual(['tab follow 2', 'tab follow 1']);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'notification-tabs.png') });

    // Reading one lowers that tab's badge.
    await page.getByTestId('notification-item').filter({ hasText: 'tab follow 2' }).getByTestId('notification-open').click();
    await following.locator('.hr-tab-badge').getByText('1').waitFor();

    // Keyboard: from the selected tab, ArrowLeft selects the one before.
    await following.focus();
    await page.keyboard.press('ArrowLeft');
    expect(await page.getByTestId('tab-1').getAttribute('aria-selected')).toBe('true');
    expect(await titles()).toEqual(['tab mine 1']);

    // A new one in another tab's category: that badge rises live, this tab's list does not change.
    await publish({ userIds: [carol.userId], type: 'tab.test', title: 'tab follow 3', category: 'following' });
    await following.locator('.hr-tab-badge').getByText('2').waitFor();
    expect(await titles()).toEqual(['tab mine 1']);
  }, 60_000);

  it("action buttons: a click is recorded, and the user's other tab shows the choice instead of the buttons", async () => {
    const context = await newContext();
    const first = await signIn(context, 'bob');
    const second = await signIn(context, 'bob');
    await publish({
      userIds: [first.userId],
      type: 'invite.sent',
      title: 'Join the design team?',
      actions: [
        { id: 'accept', label: 'Accept' },
        { id: 'decline', label: 'Decline' },
      ],
    });
    for (const { page } of [first, second]) await page.getByTestId('bell').click();
    const item = (page: Page) => page.getByTestId('notification-item').filter({ hasText: 'Join the design team?' });
    await item(second.page).getByTestId('notification-action-accept').waitFor();
    await first.page.screenshot({ path: path.join(SCREENSHOTS, 'notification-actions.png') });
    await item(first.page).getByTestId('notification-action-accept').click();
    for (const { page } of [first, second]) {
      await item(page).getByTestId('notification-interacted').getByText('✓ Accept').waitFor();
      expect(await item(page).getByTestId('notification-action-decline').count()).toBe(0);
      expect(await item(page).getAttribute('data-read')).toBe('true');
    }
  }, 60_000);

  it('groups: three comments on one photo are one item, which moves up and names the latest commenter; the other tab follows', async () => {
    const context = await newContext();
    // Bob: the keyboard test counts on Alice having nothing else in her feed.
    const first = await signIn(context, 'bob');
    const second = await signIn(context, 'bob');
    const comment = (name: string) =>
      publish({
        userIds: [first.userId],
        type: 'comment.created',
        title: `${name} commented on your photo`,
        actor: { id: name.toLowerCase(), name },
        group: {
          key: 'post:e2e:comments',
          title: { one: '{actor} and 1 other commented on your photo', other: '{actor} and {others} others commented on your photo' },
        },
      });
    await comment('Dora');
    await publish({ userIds: [first.userId], type: 'post.liked', title: 'Finn liked your post', actor: { id: 'finn', name: 'Finn' } });
    for (const { page } of [first, second]) await page.getByTestId('bell').click();
    const grouped = (page: Page) => page.getByTestId('notification-item').filter({ hasText: 'commented on your photo' });
    await grouped(first.page).getByText('Dora commented on your photo').waitFor();
    const before = Number(await badge(first.page).textContent());
    await comment('Emil');
    await comment('Gina');
    for (const { page } of [first, second]) {
      await grouped(page).getByText('Gina and 2 others commented on your photo').waitFor();
      expect(await grouped(page).count()).toBe(1);
      expect(await grouped(page).getByTestId('notification-group-count').textContent()).toBe('3 notifications');
      // The group is the newest item, above the like that came after its first comment.
      expect(await page.getByTestId('notification-item').first().textContent()).toContain('Gina and 2 others');
      // Still one unread item for the group, however many comments it holds.
      let shown = Number(await badge(page).textContent());
      for (let i = 0; i < 25 && shown !== before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        shown = Number(await badge(page).textContent());
      }
      expect(shown).toBe(before);
    }
    await first.page.screenshot({ path: path.join(SCREENSHOTS, 'notification-groups.png') });
  }, 60_000);

  it('snooze: the item leaves both tabs at once, and comes back unread at the top when its time comes', async () => {
    const context = await newContext();
    const first = await signIn(context, 'bob');
    const second = await signIn(context, 'bob');
    await publish({ userIds: [first.userId], type: 'task.assigned', title: 'Review the launch checklist' });
    await publish({ userIds: [first.userId], type: 'a.b', title: 'A newer one' });
    for (const { page } of [first, second]) await page.getByTestId('bell').click();
    const item = (page: Page) => page.getByTestId('notification-item').filter({ hasText: 'Review the launch checklist' });
    await item(first.page).waitFor();
    await item(first.page).getByTestId('notification-snooze').click();
    expect(await item(first.page).getByTestId('notification-snooze-option').allInnerTexts()).toEqual(['For 1 hour', 'Until tomorrow']);
    await first.page.screenshot({ path: path.join(SCREENSHOTS, 'notification-snooze.png') });
    await item(first.page).getByTestId('notification-snooze-option').first().click();
    for (const { page } of [first, second]) await item(page).waitFor({ state: 'detached' });

    // An hour later, as far as the job is concerned: it comes back, unread, above the newer one.
    const connection = await mongoose.createConnection(mongodbUri).asPromise();
    try {
      const job = await connection.collection('notification_jobs').findOne({ kind: 'wake', 'targets.userId': first.userId });
      expect(job?.dueAt.getTime()).toBeGreaterThan(Date.now() + 3500_000);
      await connection
        .collection('notification_jobs')
        .updateOne({ _id: job!._id }, { $set: { dueAt: new Date(), dueHour: new Date().toISOString().slice(0, 13) } });
    } finally {
      await connection.close();
    }
    for (const { page } of [first, second]) {
      await item(page).waitFor();
      expect(await item(page).getAttribute('data-read')).toBe('false');
      expect(await page.getByTestId('notification-item').first().textContent()).toContain('Review the launch checklist');
    }
  }, 60_000);

  it('settings: a category turned off stops arriving; during quiet hours new ones update the badge without a toast, except critical ones', async () => {
    const { page, userId } = await signIn(await newContext(), 'bob');
    await page.getByTestId('bell').click();
    await page.getByTestId('preferences-toggle').click();
    const prefs = page.getByTestId('preferences');
    await prefs.waitFor();
    // Account is critical on this server: shown, locked on.
    expect(await page.getByTestId('preference-account').getByText('Always on').count()).toBe(1);
    expect(await page.getByTestId('preference-account').locator('input').isDisabled()).toBe(true);
    await page.getByTestId('preference-following').locator('input').uncheck();
    // Quiet from an hour ago to an hour from now, in the browser's time zone.
    const [from, to] = await page.evaluate(() => {
      const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
      return [hhmm(new Date(Date.now() - 3600_000)), hhmm(new Date(Date.now() + 3600_000))];
    });
    await page.getByTestId('quiet-hours').check();
    const times = prefs.locator('input[type="time"]');
    await times.nth(0).fill(from);
    await times.nth(1).fill(to);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'notification-preferences.png') });
    await page.getByTestId('preferences-save').click();
    await prefs.getByText('Saved').waitFor();

    const send = async (body: object) => {
      const res = await fetch(`${herald.url}/api/notifications`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ userIds: [userId], type: 'prefs.test', ...body }),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as { notifications: unknown[]; mutedUserIds?: string[] };
    };
    expect((await send({ title: 'From a followed post', category: 'following' })).mutedUserIds).toEqual([userId]);

    await page.getByTestId('preferences-toggle').click();
    const before = Number((await badge(page).textContent()) ?? '0');
    await send({ title: 'Quiet arrival', category: 'your-posts' });
    await page.getByTestId('notification-item').filter({ hasText: 'Quiet arrival' }).waitFor();
    await badge(page)
      .getByText(String(before + 1))
      .waitFor();
    await send({ title: 'New sign-in to your account', category: 'account' });
    await page.getByTestId('toast').filter({ hasText: 'New sign-in to your account' }).waitFor();
    expect(await page.getByTestId('toast').filter({ hasText: 'Quiet arrival' }).count()).toBe(0);
    expect(await page.getByTestId('notification-item').filter({ hasText: 'From a followed post' }).count()).toBe(0);
  }, 60_000);

  it('French and right-to-left: every word from the French labels, times from Intl, the layout mirrored', async () => {
    const { page, userId } = await signIn(await newContext(), 'carol');
    await page.getByTestId('language').selectOption('fr');
    await page.getByTestId('connection-state').getByText('En direct').waitFor();
    await publish({ userIds: [userId], type: 'a.b', title: 'Bonjour Carol', actor: { id: 'zoe', name: 'Zoé Martin' } });
    await page.getByRole('button', { name: /^Notifications/ }).click();
    const item = page.getByTestId('notification-item').filter({ hasText: 'Bonjour Carol' });
    await item.waitFor();
    expect(await item.locator('time').textContent()).toBe('à l’instant');
    expect(await page.getByTestId('mark-all-read').textContent()).toBe('Tout marquer comme lu');
    // (Each tab's text is its label, then its badge when it has unread ones.)
    expect(await page.getByRole('tab').allInnerTexts()).toEqual(
      ['Tout', 'Vos posts', 'Suivis'].map((label) => expect.stringMatching(new RegExp(`^${label}\\b`))),
    );
    expect(await page.getByTestId('notification-snooze').first().textContent()).toBe('Reporter');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'notification-french.png') });

    // Right to left (what a host sets with <html dir="rtl">): the avatar moves to the right of the text,
    // the panel opens toward the left of the bell.
    await page.evaluate(() => (document.documentElement.dir = 'rtl'));
    const avatar = (await item.locator('.hr-avatar').boundingBox())!;
    const text = (await item.getByTestId('notification-open').boundingBox())!;
    expect(avatar.x).toBeGreaterThan(text.x);
    const panel = (await page.getByRole('dialog').boundingBox())!;
    const bell = (await page.getByTestId('bell').boundingBox())!;
    expect(panel.x).toBeLessThanOrEqual(bell.x + 1);
    expect(await page.getByRole('dialog').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'notification-rtl.png') });
    await page.evaluate(() => (document.documentElement.dir = 'ltr'));
    await page.getByTestId('language').selectOption('en');
  }, 60_000);

  it('per-item seen: opening the bell makes only what is shown seen; scrolling down shows, and sees, the rest', async () => {
    const service = (userId: string, what: string, method = 'GET') =>
      fetch(`${herald.url}/api/users/${encodeURIComponent(userId)}/notifications/${what}`, {
        method,
        headers: { Authorization: `Bearer ${TEST_SERVICE_TOKEN}` },
      }).then((res) => res.json() as Promise<{ unseen?: number; counts?: { unseen: number } }>);
    const unseen = async (userId: string) => (await service(userId, 'counts')).unseen!;
    /** Polls (bounded) until the user's unseen count passes the check. */
    const unseenBecomes = async (userId: string, check: (n: number) => boolean): Promise<number> => {
      let n = await unseen(userId);
      for (let i = 0; i < 50 && !check(n); i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        n = await unseen(userId);
      }
      return n;
    };

    // Carol's pages from earlier tests still have the panel open, and would see these as they arrive.
    for (const context of contexts.splice(0)) await context.close();
    const { page, userId } = await signIn(await newContext(), 'carol');
    await service(userId, 'seen', 'POST');
    for (let i = 1; i <= 25; i++) await publish({ userIds: [userId], type: 'seen.test', title: `seen test ${i}` });
    expect(await unseen(userId)).toBe(25);

    await page.getByTestId('bell').click();
    await page.getByTestId('notification-item').filter({ hasText: 'seen test 25' }).waitFor();
    // A handful fit in the panel: they become seen, the rest stay unseen.
    const afterOpening = await unseenBecomes(userId, (n) => n < 25);
    expect(afterOpening).toBeGreaterThan(10);
    expect(afterOpening).toBeLessThan(25);

    // Scroll down a screen at a time, as a reader does (an item must stay in view for half a second;
    // one jump to the end skips the middle): every one of them has been shown.
    for (let i = 0; i < 20 && (await unseen(userId)) > 0; i++) {
      await page.getByRole('dialog', { name: 'Notifications' }).evaluate((panel) => panel.scrollBy(0, panel.clientHeight * 0.7));
      await new Promise((resolve) => setTimeout(resolve, 900));
    }
    expect(await unseenBecomes(userId, (n) => n === 0)).toBe(0);
  }, 60_000);

  it('keyboard only: open the bell, move through items, mark one read, close', async () => {
    const alice = await signIn(await newContext(), 'alice');
    for (const n of [1, 2, 3]) await publish({ userIds: [alice.userId], type: 'kbd.test', title: `keyboard ${n}` });
    await badge(alice.page).getByText('3').waitFor();
    const { page } = alice;

    await page.getByTestId('bell').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Notifications' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('keyboard 3');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('keyboard 2');
    await page.keyboard.press('Enter');
    await badge(page).getByText('2').waitFor();
    expect(await page.locator('[data-testid="notification-item"][data-read="true"]').allInnerTexts()).toEqual([
      expect.stringContaining('keyboard 2'),
    ]);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Notifications' }).waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('bell');
    expect(await page.getByTestId('bell').getAttribute('aria-label')).toBe('Notifications, 2 unread');
    expect(await page.getByTestId('live-region').innerText()).toMatch(/New notification: keyboard 3|new notifications/);
  }, 60_000);
});
