import { isBase64urlKey, notificationTypeSchema } from '@herald/shared';

/**
 * The off-page channels' settings (Web Push and email), checked the same way whether they come from the
 * environment (startHerald) or from options (attachHerald, createHeraldPublisher): every problem at
 * once, one line each. Without VAPID keys push is off; without an SMTP URL email is off.
 */

/** Push services of the browsers: Chrome (FCM), Firefox (autopush), Safari (Apple), Edge (Windows). */
export const BROWSER_PUSH_SERVICES = [
  'https://fcm.googleapis.com',
  'https://updates.push.services.mozilla.com',
  'https://web.push.apple.com',
  'https://*.notify.windows.com',
] as const;

/** Settings as a host gives them (each mirrors an environment variable). */
export interface OffPageOptions {
  push?: {
    /** VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY: base64url, as `npx herald vapid-keys` prints them. */
    vapidPublicKey: string;
    vapidPrivateKey: string;
    /** VAPID_SUBJECT: a `mailto:` or `https:` contact for the push services. */
    vapidSubject: string;
    /** PUSH_SERVICE_ORIGINS: push services allowed besides the browsers' own (`https://push.example.com`, `https://*.example.net`). */
    serviceOrigins?: readonly string[];
  };
  email?: {
    /** SMTP_URL: `smtp://` or `smtps://`, credentials in the URL. */
    smtpUrl: string;
    /** EMAIL_FROM: `Herald <notifications@example.com>` or a bare address. */
    from: string;
    /** PUBLIC_URL: the app's public URL, the base of links in emails (relative actionUrls, the unsubscribe link). */
    publicUrl: string;
    /** EMAIL_LINK_SECRET: at least 32 characters; signs the unsubscribe links (changing it voids the links already sent). */
    linkSecret: string;
    /** EMAIL_DIGEST_WINDOW_SECONDS. @default 60 */
    digestWindowSeconds?: number;
    /** EMAIL_UNREAD_AFTER_SECONDS: how long a notification stays unread before it is mailed, unless the publish says. @default 900 */
    unreadAfterSeconds?: number;
  };
  /**
   * PUSH_BY_DEFAULT, EMAIL_BY_DEFAULT: categories or types (`security`, `comment.created`) whose
   * notifications ask for that channel when a publish does not say (`channels.push: false` still wins).
   */
  channelDefaults?: { push?: readonly string[]; email?: readonly string[] };
}

export interface PushConfig {
  vapid: { publicKey: string; privateKey: string; subject: string };
  /** Every allowed push-service origin (the browsers' and PUSH_SERVICE_ORIGINS). */
  serviceOrigins: string[];
}

export interface EmailConfig {
  smtpUrl: string;
  from: string;
  publicUrl: string;
  linkSecret: string;
  digestWindowSeconds: number;
  unreadAfterSeconds: number;
}

export interface OffPageConfig {
  push?: PushConfig;
  email?: EmailConfig;
  channelDefaults: { push: string[]; email: string[] };
}

const ORIGIN = /^https:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i;
const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

/** Whether an endpoint URL is on one of the allowed push-service origins (`*.` matches any subdomain). */
export function allowedPushEndpoint(endpoint: string, origins: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || url.username || url.password) return false;
  return origins.some((origin) => {
    const wildcard = origin.startsWith('https://*.');
    if (!wildcard) return url.origin === origin.toLowerCase();
    const suffix = origin.slice('https://*'.length).toLowerCase();
    return url.origin.startsWith('https://') && url.origin.slice('https://'.length).endsWith(suffix) && url.host.length > suffix.length;
  });
}

/** The settings, or every problem with them. */
export function checkOffPage(options: OffPageOptions): { config: OffPageConfig; problems: string[] } {
  const problems: string[] = [];
  const config: OffPageConfig = {
    channelDefaults: { push: [...(options.channelDefaults?.push ?? [])], email: [...(options.channelDefaults?.email ?? [])] },
  };
  for (const [channel, names] of Object.entries(config.channelDefaults)) {
    const variable = channel === 'push' ? 'PUSH_BY_DEFAULT' : 'EMAIL_BY_DEFAULT';
    for (const name of names)
      if (!notificationTypeSchema.safeParse(name).success)
        problems.push(`${variable} has "${name.slice(0, 70)}": each must be a category or type, like comment.created`);
  }
  const { push, email } = options;
  if (push) {
    // Unpadded, as web-push takes them.
    if (push.vapidPublicKey.includes('=') || !isBase64urlKey(push.vapidPublicKey, 65, 0x04))
      problems.push('VAPID_PUBLIC_KEY must be a P-256 public key, base64url (npx herald vapid-keys prints a pair)');
    if (push.vapidPrivateKey.includes('=') || !isBase64urlKey(push.vapidPrivateKey, 32))
      problems.push('VAPID_PRIVATE_KEY must be a P-256 private key, base64url (npx herald vapid-keys prints a pair)');
    if (!/^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/.test(push.vapidSubject))
      problems.push('VAPID_SUBJECT must be a mailto: address or an https: URL (the push services contact you there)');
    const extra = [...(push.serviceOrigins ?? [])];
    for (const origin of extra)
      if (!ORIGIN.test(origin)) problems.push(`PUSH_SERVICE_ORIGINS has "${origin}": each must be an https:// origin`);
    config.push = {
      vapid: { publicKey: push.vapidPublicKey, privateKey: push.vapidPrivateKey, subject: push.vapidSubject },
      serviceOrigins: [...new Set([...BROWSER_PUSH_SERVICES, ...extra.map((origin) => origin.toLowerCase())])],
    };
  }
  if (email) {
    if (!/^smtps?:\/\/[^\s/]+/.test(email.smtpUrl)) problems.push('SMTP_URL must be an smtp:// or smtps:// URL');
    const address = /<([^>]+)>\s*$/.exec(email.from)?.[1] ?? email.from;
    if (!ADDRESS.test(address.trim())) problems.push('EMAIL_FROM must be an address, like "Herald <notifications@example.com>"');
    if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(email.publicUrl))
      problems.push('PUBLIC_URL must be an http(s):// URL (links in emails start with it)');
    if (email.linkSecret.length < 32) problems.push('EMAIL_LINK_SECRET must be at least 32 characters (it signs the unsubscribe links)');
    const window = email.digestWindowSeconds ?? 60;
    const unread = email.unreadAfterSeconds ?? 900;
    if (!Number.isInteger(window) || window < 1 || window > 86_400) problems.push('EMAIL_DIGEST_WINDOW_SECONDS must be 1 to 86400 seconds');
    if (!Number.isInteger(unread) || unread < 0 || unread > 7 * 86_400)
      problems.push('EMAIL_UNREAD_AFTER_SECONDS must be 0 to 604800 seconds');
    config.email = {
      smtpUrl: email.smtpUrl,
      from: email.from,
      publicUrl: email.publicUrl.replace(/\/+$/, ''),
      linkSecret: email.linkSecret,
      digestWindowSeconds: window,
      unreadAfterSeconds: unread,
    };
  }
  return { config, problems };
}

/** The off-page settings of an environment (see OffPageOptions for each variable), or every problem with them. */
export function offPageFromEnv(env: Record<string, string | undefined>): { options: OffPageOptions; problems: string[] } {
  const problems: string[] = [];
  const vapid = [env.VAPID_PUBLIC_KEY, env.VAPID_PRIVATE_KEY, env.VAPID_SUBJECT];
  const options: OffPageOptions = {};
  if (vapid.some(Boolean)) {
    if (!vapid.every(Boolean))
      problems.push('VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT go together: set all three, or none (push off)');
    options.push = {
      vapidPublicKey: env.VAPID_PUBLIC_KEY ?? '',
      vapidPrivateKey: env.VAPID_PRIVATE_KEY ?? '',
      vapidSubject: env.VAPID_SUBJECT ?? '',
      serviceOrigins: (env.PUSH_SERVICE_ORIGINS ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    };
  } else if (env.PUSH_SERVICE_ORIGINS) problems.push('PUSH_SERVICE_ORIGINS needs VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT');
  const seconds = (name: string) => {
    const value = env[name];
    return value === undefined ? undefined : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  };
  if (env.SMTP_URL) {
    if (!env.EMAIL_FROM) problems.push('EMAIL_FROM is required with SMTP_URL (the sender of every email)');
    if (!env.PUBLIC_URL) problems.push('PUBLIC_URL is required with SMTP_URL (links in emails start with it)');
    if (!env.EMAIL_LINK_SECRET) problems.push('EMAIL_LINK_SECRET is required with SMTP_URL (it signs the unsubscribe links)');
    const window = seconds('EMAIL_DIGEST_WINDOW_SECONDS');
    const unread = seconds('EMAIL_UNREAD_AFTER_SECONDS');
    options.email = {
      smtpUrl: env.SMTP_URL,
      from: env.EMAIL_FROM ?? 'missing@invalid',
      publicUrl: env.PUBLIC_URL ?? 'http://missing.invalid',
      linkSecret: env.EMAIL_LINK_SECRET ?? 'x'.repeat(32),
      ...(window !== undefined ? { digestWindowSeconds: window } : {}),
      ...(unread !== undefined ? { unreadAfterSeconds: unread } : {}),
    };
  }
  const list = (name: string) =>
    (env[name] ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
  if (env.PUSH_BY_DEFAULT || env.EMAIL_BY_DEFAULT)
    options.channelDefaults = { push: list('PUSH_BY_DEFAULT'), email: list('EMAIL_BY_DEFAULT') };
  return { options, problems: [...problems, ...checkOffPage(options).problems] };
}
