import request from 'supertest';
import { jobModel } from '../src/notifications/scheduled-jobs';
import { TEST_METRICS_TOKEN } from './support/herald';
import { asUser } from './support/http';
import { startSmtpServer, type SmtpServer } from './support/smtp-server';
import { useTestStack } from './support/stack';
import { sleep, waitFor } from './support/wait';

const EMAIL_ENV: Record<string, string> = {
  EMAIL_FROM: 'Herald <notifications@app.example>',
  PUBLIC_URL: 'https://app.example',
  EMAIL_LINK_SECRET: 'email-link-secret-0123456789abcdef0123456789',
  EMAIL_DIGEST_WINDOW_SECONDS: '1',
  CRITICAL_CATEGORIES: 'security',
  METRICS_TOKEN: TEST_METRICS_TOKEN,
};

let smtp: SmtpServer;
// The SMTP server first: its URL goes into the gateway's settings.
beforeAll(async () => {
  smtp = await startSmtpServer();
  EMAIL_ENV.SMTP_URL = smtp.url;
});
afterAll(() => smtp?.close());
const stack = useTestStack({ env: EMAIL_ENV, herald: { jobsIntervalMs: 100 } });

const tokenFor = (userId: string) => stack.herald.gateway.tokens!.sign({ userId, name: userId }).token;
const mailTo = (address: string) => smtp.received.filter((email) => email.to.includes(address));

async function publish(userId: string, title: string, extra: Record<string, unknown> = {}) {
  const { notifications } = await stack.herald.gateway.publishNotification({
    userIds: [userId],
    type: 'comment.created',
    title,
    category: 'social',
    channels: { email: { unreadAfterSeconds: 0 } },
    ...extra,
  });
  return notifications[0]!;
}

const emailJobs = async () =>
  (await jobModel(stack.inspector).countDocuments({ kind: 'email-due' })) +
  (await jobModel(stack.inspector).countDocuments({ kind: 'digest' }));

describe('email when a notification stays unread', () => {
  it('mails what is still unread once its wait is over, in one digest per window, with a one-click unsubscribe', async () => {
    await stack.herald.gateway.recipients.set('mail-ada', { email: 'ada@example.com', name: 'Ada' });
    const first = await publish('mail-ada', 'Bob commented on your post', { body: 'Nice one', actionUrl: '/posts/1' });
    await publish('mail-ada', 'Carol commented on your post', { actionUrl: 'https://shop.example/p/2' });
    const read = await publish('mail-ada', 'Dan commented on your post');
    await asUser(stack.herald.url, tokenFor('mail-ada')).post(`/api/notifications/${read.id}/read`).expect(200);

    await waitFor(() => expect(mailTo('ada@example.com')).toHaveLength(1), 10_000, 50);
    await sleep(1500);
    expect(mailTo('ada@example.com')).toHaveLength(1);
    const email = mailTo('ada@example.com')[0]!;
    expect(email.mail.subject).toBe('You have 2 unread notifications');
    expect(email.mail.from?.value).toEqual([{ name: 'Herald', address: 'notifications@app.example' }]);
    expect(email.mail.text).toContain('Hi Ada,');
    expect(email.mail.text).toContain('Bob commented on your post');
    expect(email.mail.text).toContain('Nice one');
    expect(email.mail.text).toContain('Carol commented on your post');
    expect(email.mail.text).not.toContain('Dan commented');
    expect(email.mail.html).toContain('href="https://app.example/posts/1"');
    expect(email.mail.html).toContain('href="https://shop.example/p/2"');
    expect(email.header('List-Unsubscribe')).toMatch(
      /^List-Unsubscribe: <https:\/\/app\.example\/api\/email\/unsubscribe\?token=[\w.-]+>$/,
    );
    expect(email.header('List-Unsubscribe-Post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(first.id).toBeDefined();
    await waitFor(async () => expect(await emailJobs()).toBe(0), 5000, 50);
    const metrics = await request(stack.herald.url).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
    expect(metrics.text).toMatch(/^herald_emails_total\{outcome="sent"\} [1-9]/m);
    expect(metrics.text).not.toContain('ada@example.com');
  });

  it("is written in the recipient's language and time zone", async () => {
    await stack.herald.gateway.recipients.set('mail-chloe', {
      email: 'chloe@example.com',
      name: 'Chloé',
      locale: 'fr',
      timeZone: 'Europe/Paris',
    });
    const n = await publish('mail-chloe', 'Alice a commenté votre publication');
    await waitFor(() => expect(mailTo('chloe@example.com')).toHaveLength(1), 10_000, 50);
    const email = mailTo('chloe@example.com')[0]!;
    expect(email.mail.subject).toBe('Alice a commenté votre publication');
    expect(email.mail.text).toContain('Bonjour Chloé,');
    const paris = new Intl.DateTimeFormat('fr', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(
      new Date(n.createdAt),
    );
    expect(email.mail.text).toContain(paris);
  });

  it('stops for the categories of an email whose link is POSTed; a link followed (GET) or forged changes nothing', async () => {
    await stack.herald.gateway.recipients.set('mail-eve', { email: 'eve@example.com' });
    await publish('mail-eve', 'First');
    await waitFor(() => expect(mailTo('eve@example.com')).toHaveLength(1), 10_000, 50);
    const link = /<(https:\/\/app\.example(\/api\/email\/unsubscribe\?token=[\w.-]+))>/.exec(
      mailTo('eve@example.com')[0]!.header('List-Unsubscribe')!,
    )!;
    const path = link[2]!;
    const preferences = () => asUser(stack.herald.url, tokenFor('mail-eve')).get('/api/preferences').expect(200);

    const page = await request(stack.herald.url).get(path).expect(200);
    expect(page.text).toContain('<form method="post">');
    expect((await preferences()).body.categories).toEqual({});

    const forged = path.replace(
      /token=([\w-]+)\.([\w-]+)\./,
      (_, header: string) =>
        `token=${header}.${Buffer.from('{"sub":"mail-eve","cat":["social"],"aud":"herald:unsubscribe","exp":9999999999}').toString('base64url')}.`,
    );
    expect((await request(stack.herald.url).post(forged).type('form').send('List-Unsubscribe=One-Click')).status).toBe(401);
    const json = await request(stack.herald.url)
      .post(`${path}x`)
      .set('Accept', 'application/json')
      .type('form')
      .send('List-Unsubscribe=One-Click');
    expect(json.status).toBe(401);
    expect(json.body.error.code).toBe('invalid_token');
    expect((await preferences()).body.categories).toEqual({});

    await request(stack.herald.url).post(path).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect((await preferences()).body.categories).toEqual({ social: { inApp: true, push: true, email: false } });
    // The next one of that category is stored and shown, and records no email.
    const next = await publish('mail-eve', 'Second');
    expect(await jobModel(stack.inspector).countDocuments({ 'targets.id': next.id })).toBe(0);
    await sleep(1500);
    expect(mailTo('eve@example.com')).toHaveLength(1);
  });

  it('holds a digest through quiet hours, and sends it at once when a critical notification joins it', async () => {
    await stack.herald.gateway.recipients.set('mail-fay', { email: 'fay@example.com' });
    const hhmm = (at: Date) => at.toISOString().slice(11, 16);
    const now = Date.now();
    await asUser(stack.herald.url, tokenFor('mail-fay'))
      .put('/api/preferences', {
        quietHours: { start: hhmm(new Date(now - 3600_000)), end: hhmm(new Date(now + 3600_000)), timeZone: 'UTC' },
      })
      .expect(200);
    await publish('mail-fay', 'Quiet one');
    await sleep(2500);
    expect(mailTo('fay@example.com')).toHaveLength(0);
    const held = await jobModel(stack.inspector).findById('digest:mail-fay').lean();
    expect(held?.dueAt.getTime()).toBeGreaterThan(now + 3000_000);

    await publish('mail-fay', 'New sign-in from Lisbon', { category: 'security', type: 'account.sign_in' });
    await waitFor(() => expect(mailTo('fay@example.com')).toHaveLength(1), 10_000, 50);
    const email = mailTo('fay@example.com')[0]!;
    expect(email.mail.text).toContain('Quiet one');
    expect(email.mail.text).toContain('New sign-in from Lisbon');
  });

  it('sends nothing, and leaves nothing behind, for a recipient without an address', async () => {
    await publish('mail-nobody', 'No address');
    await sleep(2000);
    expect(smtp.received.filter((email) => email.mail.text?.includes('No address'))).toHaveLength(0);
    expect(await jobModel(stack.inspector).countDocuments({ _id: 'digest:mail-nobody' })).toBe(0);
  });
});
