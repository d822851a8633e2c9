import { spawnSync } from 'node:child_process';
import path from 'node:path';
import webpush from 'web-push';
import { loadConfig } from '../src/config';
import { allowedPushEndpoint, BROWSER_PUSH_SERVICES, checkOffPage } from '../src/off-page-config';
import { configProblems } from './support/config';

const good = {
  MONGODB_URI: 'mongodb://127.0.0.1:27017/herald',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWT_SECRET: 'j'.repeat(32),
  SERVICE_TOKEN: 's'.repeat(24),
};
const keys = webpush.generateVAPIDKeys();
const vapid = { VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey, VAPID_SUBJECT: 'mailto:ops@example.com' };
const email = {
  SMTP_URL: 'smtp://127.0.0.1:1025',
  EMAIL_FROM: 'Herald <notify@example.com>',
  PUBLIC_URL: 'https://app.example.com/',
  EMAIL_LINK_SECRET: 'email-link-secret-0123456789abcdef',
};

describe('push and email settings are validated at start', () => {
  it('leaves both off without their variables', () => {
    expect(loadConfig(good).offPage).toEqual({});
  });

  it('reads a complete push and email setup, with the defaults', () => {
    const { offPage } = loadConfig({ ...good, ...vapid, ...email, PUSH_SERVICE_ORIGINS: 'https://push.example.net' });
    expect(offPage.push).toMatchObject({ vapidPublicKey: keys.publicKey, vapidSubject: 'mailto:ops@example.com' });
    const checked = checkOffPage(offPage);
    expect(checked.problems).toEqual([]);
    expect(checked.config.push?.serviceOrigins).toEqual([...BROWSER_PUSH_SERVICES, 'https://push.example.net']);
    expect(checked.config.email).toEqual({
      smtpUrl: 'smtp://127.0.0.1:1025',
      from: 'Herald <notify@example.com>',
      publicUrl: 'https://app.example.com',
      linkSecret: 'email-link-secret-0123456789abcdef',
      digestWindowSeconds: 60,
      unreadAfterSeconds: 900,
    });
  });

  it.each([
    [{ VAPID_PUBLIC_KEY: keys.publicKey }, /VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT go together/],
    [{ ...vapid, VAPID_PUBLIC_KEY: keys.privateKey }, /VAPID_PUBLIC_KEY must be a P-256 public key/],
    [{ ...vapid, VAPID_PRIVATE_KEY: 'not-a-key' }, /VAPID_PRIVATE_KEY must be a P-256 private key/],
    [{ ...vapid, VAPID_SUBJECT: 'ops@example.com' }, /VAPID_SUBJECT must be a mailto: address or an https: URL/],
    [{ ...vapid, PUSH_SERVICE_ORIGINS: 'http://push.example.net' }, /PUSH_SERVICE_ORIGINS has "http:\/\/push.example.net"/],
    [{ PUSH_SERVICE_ORIGINS: 'https://push.example.net' }, /PUSH_SERVICE_ORIGINS needs VAPID_PUBLIC_KEY/],
    [{ SMTP_URL: 'smtp://127.0.0.1:1025' }, /EMAIL_FROM is required with SMTP_URL/],
    [{ SMTP_URL: 'smtp://127.0.0.1:1025' }, /PUBLIC_URL is required with SMTP_URL/],
    [{ SMTP_URL: 'smtp://127.0.0.1:1025' }, /EMAIL_LINK_SECRET is required with SMTP_URL/],
    [{ ...email, EMAIL_LINK_SECRET: 'short' }, /EMAIL_LINK_SECRET must be at least 32 characters/],
    [{ PUSH_BY_DEFAULT: 'security,Not A Type' }, /PUSH_BY_DEFAULT has "Not A Type": each must be a category or type/],
    [{ ...email, SMTP_URL: 'http://mail.example.com' }, /SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL/],
    [{ ...email, EMAIL_FROM: 'Herald' }, /EMAIL_FROM must be an address/],
    [{ ...email, PUBLIC_URL: 'app.example.com' }, /PUBLIC_URL must be an http\(s\):\/\/ URL/],
    [{ ...email, EMAIL_DIGEST_WINDOW_SECONDS: '0' }, /EMAIL_DIGEST_WINDOW_SECONDS must be 1 to 86400 seconds/],
    [{ ...email, EMAIL_UNREAD_AFTER_SECONDS: 'soon' }, /EMAIL_UNREAD_AFTER_SECONDS must be 0 to 604800 seconds/],
  ])('refuses %j with a clear line', (env, message) => {
    expect(configProblems({ ...good, ...env } as Record<string, string>).some((line) => message.test(line))).toBe(true);
  });

  it('allows endpoints on the browsers’ push services and the configured ones only, over https', () => {
    const origins = checkOffPage({
      push: {
        vapidPublicKey: keys.publicKey,
        vapidPrivateKey: keys.privateKey,
        vapidSubject: 'https://example.com',
        serviceOrigins: ['https://127.0.0.1:8443'],
      },
    }).config.push!.serviceOrigins;
    for (const endpoint of [
      'https://fcm.googleapis.com/fcm/send/abc',
      'https://updates.push.services.mozilla.com/wpush/v2/abc',
      'https://web.push.apple.com/QGx',
      'https://wns2-par02p.notify.windows.com/w/?token=abc',
      'https://127.0.0.1:8443/push/abc',
    ]) {
      expect([endpoint, allowedPushEndpoint(endpoint, origins)]).toEqual([endpoint, true]);
    }
    for (const endpoint of [
      'http://fcm.googleapis.com/fcm/send/abc',
      'https://fcm.googleapis.com.evil.example/abc',
      'https://evil.example/fcm.googleapis.com',
      'https://notify.windows.com.evil.example/',
      'https://user:pass@fcm.googleapis.com/abc',
      'https://127.0.0.1:9443/push/abc',
      'https://169.254.169.254/latest/meta-data',
      'not a url',
    ]) {
      expect([endpoint, allowedPushEndpoint(endpoint, origins)]).toEqual([endpoint, false]);
    }
  });
});

describe('npx herald vapid-keys', () => {
  const herald = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'server/src/cli/herald.ts', ...args], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    });

  it('prints a fresh key pair that the settings accept', () => {
    const result = herald('vapid-keys');
    expect(result.status).toBe(0);
    const lines = Object.fromEntries(
      result.stdout
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => line.split('=') as [string, string]),
    );
    expect(Object.keys(lines)).toEqual(['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY']);
    expect(configProblems({ ...good, ...lines, VAPID_SUBJECT: 'mailto:ops@example.com' })).toEqual([]);
    expect(herald('vapid-keys').stdout).not.toEqual(result.stdout);
  });

  it('names the commands for an unknown one', () => {
    const result = herald('vapid');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('herald vapid-keys');
  });
});
