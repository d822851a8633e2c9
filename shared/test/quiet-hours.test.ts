import { inQuietHours, isTimeZone, wallClock } from '../src/quiet-hours';

describe('quiet hours', () => {
  // 2026-01-15 21:30 UTC is 22:30 in Paris (winter, UTC+1) and 16:30 in New York.
  const at = new Date('2026-01-15T21:30:00Z');

  it('reads the wall clock in the user time zone', () => {
    expect(wallClock(at, 'Europe/Paris')).toBe('22:30');
    expect(wallClock(at, 'America/New_York')).toBe('16:30');
    expect(wallClock(new Date('2026-07-15T21:30:00Z'), 'Europe/Paris')).toBe('23:30');
  });

  it('spans midnight when start is after end, and is never quiet when they are equal', () => {
    const overnight = { start: '22:00', end: '07:00', timeZone: 'Europe/Paris' };
    expect(inQuietHours(overnight, at)).toBe(true);
    expect(inQuietHours({ ...overnight, timeZone: 'America/New_York' }, at)).toBe(false);
    expect(inQuietHours(overnight, new Date('2026-01-16T05:59:00Z'))).toBe(true);
    expect(inQuietHours(overnight, new Date('2026-01-16T06:00:00Z'))).toBe(false);
    expect(inQuietHours({ start: '13:00', end: '17:00', timeZone: 'America/New_York' }, at)).toBe(true);
    expect(inQuietHours({ start: '09:00', end: '09:00', timeZone: 'UTC' }, at)).toBe(false);
    expect(inQuietHours(null, at)).toBe(false);
  });

  it('knows which time zones exist', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
