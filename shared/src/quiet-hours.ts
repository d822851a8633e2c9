/**
 * A user's quiet hours: from `start` to `end` (`HH:MM`, 24-hour) in their IANA time zone. An overnight
 * span (22:00 to 07:00) crosses midnight; `start` equal to `end` is never quiet. No zod here, so the
 * browser can import it (`@herald/shared/quiet-hours`) without the schemas.
 */
export interface QuietHours {
  start: string;
  end: string;
  timeZone: string;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time `HH:MM` at `at` in `timeZone`. Throws a RangeError for a zone Intl does not know. */
export function wallClock(at: Date, timeZone: string): string {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, format);
  }
  const parts = format.formatToParts(at);
  const hour = parts.find((p) => p.type === 'hour')?.value ?? '00';
  const minute = parts.find((p) => p.type === 'minute')?.value ?? '00';
  return `${hour}:${minute}`;
}

/** Whether Intl knows the zone (`Europe/Paris`, `UTC`). */
export function isTimeZone(timeZone: string): boolean {
  try {
    wallClock(new Date(0), timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Whether `at` falls in the quiet hours (none given: never). */
export function inQuietHours(quietHours: QuietHours | null | undefined, at: Date): boolean {
  if (!quietHours || quietHours.start === quietHours.end) return false;
  const now = wallClock(at, quietHours.timeZone);
  const { start, end } = quietHours;
  return start < end ? now >= start && now < end : now >= start || now < end;
}
