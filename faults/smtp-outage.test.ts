import { jobModel } from '../server/src/notifications/scheduled-jobs';
import { spawnGateway, type GatewayProcess } from '../server/test/support/process-gateway';
import { startSmtpServer, type SmtpServer } from '../server/test/support/smtp-server';
import { useTestStack } from '../server/test/support/stack';
import { sleep, waitFor } from '../server/test/support/wait';

const EMAIL_ENV: Record<string, string> = {
  EMAIL_FROM: 'Herald <notifications@app.example>',
  PUBLIC_URL: 'https://app.example',
  EMAIL_LINK_SECRET: 'email-link-secret-0123456789abcdef0123456789',
  EMAIL_DIGEST_WINDOW_SECONDS: '1',
};

describe('email when the SMTP server fails, with two gateways racing for the jobs', () => {
  let smtp: SmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    EMAIL_ENV.SMTP_URL = smtp.url;
  });
  // The stack's gateway publishes and runs no jobs; two gateway processes race for them.
  const stack = useTestStack({ env: EMAIL_ENV, herald: { jobsIntervalMs: 0 } });
  const gateways: GatewayProcess[] = [];
  beforeAll(async () => {
    gateways.push(
      ...(await Promise.all([0, 1].map(() => spawnGateway({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url, extra: EMAIL_ENV })))),
    );
  }, 60_000);
  afterAll(async () => {
    for (const gateway of gateways) if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    await smtp?.close();
  });

  async function publishTo(users: string[], titles: string[]): Promise<string[]> {
    for (const userId of users) await stack.herald.gateway.recipients.set(userId, { email: `${userId}@example.com` });
    const ids: string[] = [];
    for (const title of titles) {
      const { notifications } = await stack.herald.gateway.publishNotification({
        userIds: users,
        type: 'fault.email',
        title,
        channels: { email: { unreadAfterSeconds: 0 } },
      });
      ids.push(...notifications.map((n) => n.id));
    }
    return ids;
  }

  /** Every user got exactly one email holding every title; nothing stored twice; no email job left. */
  async function expectOneEmailEach(users: string[], titles: string[], ids: string[]) {
    await waitFor(() =>
      expect(new Set(smtp.received.flatMap((email) => email.to))).toEqual(expect.objectContaining({ size: expect.any(Number) })),
    );
    for (const userId of users) {
      const mine = smtp.received.filter((email) => email.to.includes(`${userId}@example.com`));
      expect(mine).toHaveLength(1);
      for (const title of titles) expect(mine[0]!.mail.text).toContain(title);
    }
    const stored = await stack.inspector
      .collection('notifications')
      .find({ type: 'fault.email', userId: { $in: users } })
      .toArray();
    expect(stored.map((doc) => String(doc._id)).sort()).toEqual([...ids].sort());
    await waitFor(
      async () => {
        const left = await jobModel(stack.inspector).find({}, { _id: 1, kind: 1 }).lean();
        expect(left.filter((job) => job.kind === 'email-due' || job.kind === 'digest')).toEqual([]);
      },
      10_000,
      100,
    );
  }

  const failures = async () =>
    (await Promise.all(gateways.map((g) => g.metrics()))).reduce(
      (sum, text) => sum + Number(/^herald_emails_total\{outcome="failed"\} (\d+)$/m.exec(text)?.[1] ?? 0),
      0,
    );

  it('sends each due digest once however many gateways look for it', async () => {
    const users = Array.from({ length: 30 }, (_, i) => `race-${i}`);
    const titles = ['Race one', 'Race two'];
    const ids = await publishTo(users, titles);
    await waitFor(() => expect(smtp.received.filter((e) => e.to[0]!.startsWith('race-'))).toHaveLength(users.length), 30_000, 100);
    await sleep(2000); // a second email would have come by now
    await expectOneEmailEach(users, titles, ids);
  }, 90_000);

  it('SMTP down, then back: every due digest is sent once, after retries counted on /metrics', async () => {
    await smtp.stop();
    const users = Array.from({ length: 20 }, (_, i) => `outage-${i}`);
    const titles = ['Outage one', 'Outage two'];
    const ids = await publishTo(users, titles);
    await waitFor(async () => expect(await failures()).toBeGreaterThanOrEqual(1), 30_000, 200);
    expect(smtp.received.filter((e) => e.to[0]!.startsWith('outage-'))).toHaveLength(0);
    await smtp.start();
    await waitFor(() => expect(smtp.received.filter((e) => e.to[0]!.startsWith('outage-'))).toHaveLength(users.length), 60_000, 200);
    await sleep(2000);
    await expectOneEmailEach(users, titles, ids);
  }, 120_000);
});
