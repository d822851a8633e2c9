/** The unread badge's text: the count, capped at "99+". */
export function badgeText(unread: number): string {
  return unread > 99 ? '99+' : String(unread);
}

/** An actor's initials for the avatar: "Alice Martin" -> "AM". */
export function initials(name: string): string {
  return name
    .split(/\s+/)
    .map((part) => part[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

const formats = new Map<string, Intl.RelativeTimeFormat>();

function formatFor(locale: string | undefined): Intl.RelativeTimeFormat {
  const key = locale ?? '';
  let format = formats.get(key);
  if (!format) {
    format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    formats.set(key, format);
  }
  return format;
}

/** "just now", "5 minutes ago", "yesterday", in the locale given (the browser's by default). */
export function relativeTime(iso: string, options: { locale?: string | undefined; justNow?: string } = {}, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return formatFor(options.locale).format(Math.round(seconds / size), unit);
  }
  return options.justNow ?? 'just now';
}
