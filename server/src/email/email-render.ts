/**
 * A digest email's words and markup: the recipient's unread notifications, in their language (English or
 * French, like the client) and time zone, as HTML and as plain text, each item linking to its page.
 * Pure: no I/O, so every wording can be tested as it is.
 */

/** One notification as the digest lists it. */
export interface DigestItem {
  title: string;
  body?: string | undefined;
  /** Absolute, or a path on the app (`/posts/9`), joined to PUBLIC_URL. */
  actionUrl?: string | undefined;
  createdAt: Date;
}

export interface DigestInput {
  items: DigestItem[];
  recipient: { name?: string | undefined; locale?: string | undefined; timeZone?: string | undefined };
  /** The app's public base URL (PUBLIC_URL), without a trailing slash. */
  publicUrl: string;
  /** The one-click unsubscribe link for the categories of this email. */
  unsubscribeUrl: string;
  /** The categories this email holds, as the unsubscribe link turns them off. */
  categories: string[];
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

interface Words {
  locale: string;
  subjectOne: (title: string) => string;
  subjectMany: (count: number) => string;
  greeting: (name?: string) => string;
  intro: (count: number) => string;
  openApp: string;
  why: (categories: string) => string;
  unsubscribe: string;
}

const ENGLISH: Words = {
  locale: 'en',
  subjectOne: (title) => title,
  subjectMany: (count) => `You have ${count} unread notifications`,
  greeting: (name) => (name ? `Hi ${name},` : 'Hi,'),
  intro: (count) => (count === 1 ? 'This notification is waiting for you:' : `These ${count} notifications are waiting for you:`),
  openApp: 'Open the app',
  why: (categories) => `You receive this email because these notifications stayed unread (${categories}).`,
  unsubscribe: 'Stop these emails',
};

const FRENCH: Words = {
  locale: 'fr',
  subjectOne: (title) => title,
  subjectMany: (count) => `Vous avez ${count} notifications non lues`,
  greeting: (name) => (name ? `Bonjour ${name},` : 'Bonjour,'),
  intro: (count) => (count === 1 ? 'Cette notification vous attend :' : `Ces ${count} notifications vous attendent :`),
  openApp: 'Ouvrir l’application',
  why: (categories) => `Vous recevez cet e-mail parce que ces notifications sont restées non lues (${categories}).`,
  unsubscribe: 'Ne plus recevoir ces e-mails',
};

/** English, or French for a `fr` locale (`fr`, `fr-CA`). */
export function wordsFor(locale: string | undefined): Words {
  return locale && /^fr(-|$)/i.test(locale) ? FRENCH : ENGLISH;
}

/** Text as HTML text: the five characters that could start markup or end an attribute, escaped. */
export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** An item's link: absolute http(s) as given, a path joined to the public URL; anything else: none. */
export function absoluteLink(actionUrl: string | undefined, publicUrl: string): string | undefined {
  if (!actionUrl) return undefined;
  if (/^https?:\/\//i.test(actionUrl)) return actionUrl;
  if (actionUrl.startsWith('/') && !actionUrl.startsWith('//')) return `${publicUrl}${actionUrl}`;
  return undefined;
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

/** The time an item was stored, in the recipient's language and zone (UTC when the zone is unknown). */
function timeOf(at: Date, words: Words, timeZone: string | undefined): string {
  const key = `${words.locale}\n${timeZone ?? 'UTC'}`;
  let format = timeFormats.get(key);
  if (!format) {
    const options: Intl.DateTimeFormatOptions = {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZoneName: 'short',
    };
    try {
      format = new Intl.DateTimeFormat(words.locale, { ...options, timeZone: timeZone ?? 'UTC' });
    } catch {
      format = new Intl.DateTimeFormat(words.locale, { ...options, timeZone: 'UTC' });
    }
    // Zones and two languages: a few hundred formats at most.
    if (timeFormats.size > 1000) timeFormats.clear();
    timeFormats.set(key, format);
  }
  return format.format(at);
}

/** A title or body as one line of a subject: no line breaks, at most 150 characters. */
const oneLine = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 150 ? `${flat.slice(0, 149)}…` : flat;
};

/**
 * The digest: one notification is its own subject, several are counted. Items oldest first, each with
 * its time and link; the footer says why the email came and links the one-click unsubscribe.
 */
export function renderDigest(input: DigestInput): RenderedEmail {
  const words = wordsFor(input.recipient.locale);
  const { items } = input;
  const subject = items.length === 1 ? words.subjectOne(oneLine(items[0]!.title)) : words.subjectMany(items.length);
  const lines = items.map((item) => {
    const link = absoluteLink(item.actionUrl, input.publicUrl);
    return {
      item,
      link,
      when: timeOf(item.createdAt, words, input.recipient.timeZone),
    };
  });
  const categories = input.categories.join(', ');

  const text = [
    words.greeting(input.recipient.name),
    '',
    words.intro(items.length),
    '',
    ...lines.flatMap(({ item, link, when }) => [
      `* ${item.title}`,
      ...(item.body ? item.body.split('\n').map((line) => `  ${line}`) : []),
      `  ${when}${link ? ` - ${link}` : ''}`,
      '',
    ]),
    `${words.openApp}: ${input.publicUrl}`,
    '',
    '--',
    words.why(categories),
    `${words.unsubscribe}: ${input.unsubscribeUrl}`,
    '',
  ].join('\n');

  const htmlItems = lines
    .map(({ item, link, when }) => {
      const title = link
        ? `<a href="${escapeHtml(link)}" style="color:#1d4ed8;text-decoration:none;font-weight:600">${escapeHtml(item.title)}</a>`
        : `<strong>${escapeHtml(item.title)}</strong>`;
      const body = item.body ? `<div style="margin-top:4px;white-space:pre-line">${escapeHtml(item.body)}</div>` : '';
      return `<li style="margin:0 0 16px;padding:0;list-style:none">${title}${body}<div style="margin-top:4px;color:#6b7280;font-size:13px">${escapeHtml(when)}</div></li>`;
    })
    .join('\n');
  const html = `<!doctype html>
<html lang="${words.locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(subject)}</title></head>
<body style="margin:0;padding:24px;background:#f9fafb;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#111827">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border:1px solid #e5e7eb;border-radius:8px;padding:24px">
<p style="margin:0 0 12px">${escapeHtml(words.greeting(input.recipient.name))}</p>
<p style="margin:0 0 16px">${escapeHtml(words.intro(items.length))}</p>
<ul style="margin:0;padding:0">
${htmlItems}
</ul>
<p style="margin:16px 0 0"><a href="${escapeHtml(input.publicUrl)}" style="color:#1d4ed8">${escapeHtml(words.openApp)}</a></p>
</div>
<p style="max-width:560px;margin:16px auto 0;color:#6b7280;font-size:12px">${escapeHtml(words.why(categories))}
<a href="${escapeHtml(input.unsubscribeUrl)}" style="color:#6b7280">${escapeHtml(words.unsubscribe)}</a></p>
</body>
</html>
`;
  return { subject, text, html };
}
