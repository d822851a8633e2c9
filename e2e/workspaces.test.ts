import type { Page } from 'playwright-core';
import { useDemoStack } from './support/demo-stack';

jest.setTimeout(60_000);

/** The demo's workspace menu sets NotificationProvider's `tenant`: the bell follows without a reload. */
describe('switching workspaces in a real browser', () => {
  const demo = useDemoStack();
  const publish = (body: object) => demo.publish(body);

  const badge = (page: Page) => page.getByTestId('unread-badge');

  it("shows each workspace's own feed and badge, live, without a page reload", async () => {
    const page = await (await demo.browser.newContext()).newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(demo.herald.url);
    await page.getByTestId('login-bob').click();
    await page.getByTestId('connection-state').getByText('Live').waitFor();
    const userId = (await page.getByTestId('current-user').getAttribute('data-user-id'))!;
    // Set once: still there after every switch means the page never reloaded.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    await publish({ userIds: [userId], type: 'invoice.due', title: 'Acme invoice due', tenant: 'acme' });
    await publish({ userIds: [userId], type: 'invoice.due', title: 'Globex invoice due', tenant: 'globex' });
    await publish({ userIds: [userId], type: 'invoice.due', title: 'Globex reminder', tenant: 'globex' });
    await page.waitForTimeout(300);
    expect(await badge(page).count()).toBe(0);

    await page.getByTestId('workspace').selectOption('acme');
    await page.getByTestId('connection-state').getByText('Live').waitFor();
    await badge(page).getByText('1').waitFor();
    await page.getByTestId('bell').click();
    await page.getByTestId('notification-item').filter({ hasText: 'Acme invoice due' }).waitFor();
    expect(await page.getByTestId('notification-item').count()).toBe(1);

    await page.getByTestId('workspace').selectOption('globex');
    await badge(page).getByText('2').waitFor();
    // Live in the workspace shown; nothing from another.
    await publish({ userIds: [userId], type: 'invoice.due', title: 'Acme, live', tenant: 'acme' });
    await publish({ userIds: [userId], type: 'invoice.due', title: 'Globex, live', tenant: 'globex' });
    await badge(page).getByText('3').waitFor();
    await page.getByTestId('workspace').selectOption('');
    await page.getByTestId('connection-state').getByText('Live').waitFor();
    await page.waitForTimeout(300);
    expect(await badge(page).count()).toBe(0);
    await page.getByTestId('workspace').selectOption('acme');
    await badge(page).getByText('2').waitFor();
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  });
});
