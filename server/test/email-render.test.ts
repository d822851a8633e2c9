import { absoluteLink, renderDigest } from '../src/email/email-render';
import { createUnsubscribeLinks } from '../src/email/email-links';
import { endOfQuietHours } from '../src/email/email-stage';

const base = {
  publicUrl: 'https://app.example',
  unsubscribeUrl: 'https://app.example/api/email/unsubscribe?token=t',
  categories: ['social'],
};

describe('digest emails', () => {
  it('one notification is its own subject; several are counted; times are in the recipient’s zone', () => {
    const one = renderDigest({
      ...base,
      items: [{ title: 'Ada replied', body: 'Looks good', actionUrl: '/posts/9', createdAt: new Date('2026-12-08T09:30:00Z') }],
      recipient: { name: 'Bob', timeZone: 'America/New_York' },
    });
    expect(one.subject).toBe('Ada replied');
    expect(one.text).toContain('Hi Bob,');
    expect(one.text).toContain('https://app.example/posts/9');
    expect(one.text).toMatch(/4:30\sAM/); // 09:30 UTC in New York
    expect(one.html).toContain('href="https://app.example/posts/9"');

    const many = renderDigest({
      ...base,
      items: [
        { title: 'First', createdAt: new Date('2026-12-08T09:00:00Z') },
        { title: 'Second', actionUrl: 'https://shop.example/o/1', createdAt: new Date('2026-12-08T09:01:00Z') },
      ],
      recipient: {},
    });
    expect(many.subject).toBe('You have 2 unread notifications');
    expect(many.text.indexOf('First')).toBeLessThan(many.text.indexOf('Second'));
    expect(many.html).toContain('href="https://shop.example/o/1"');
  });

  it('is written in French for a French locale, times too', () => {
    const email = renderDigest({
      ...base,
      items: [
        { title: 'Un', createdAt: new Date('2026-12-08T09:00:00Z') },
        { title: 'Deux', createdAt: new Date('2026-12-08T09:00:00Z') },
      ],
      recipient: { name: 'Chloé', locale: 'fr-CA', timeZone: 'Europe/Paris' },
    });
    expect(email.subject).toBe('Vous avez 2 notifications non lues');
    expect(email.text).toContain('Bonjour Chloé,');
    expect(email.text).toContain('10:00'); // 09:00 UTC in Paris
    expect(email.html).toContain('<html lang="fr">');
    expect(email.text).toContain('Ne plus recevoir ces e-mails: https://app.example/api/email/unsubscribe?token=t');
  });

  it('shows text as text: markup in a title or body is escaped, links are only http(s) or paths', () => {
    const email = renderDigest({
      ...base,
      items: [
        { title: '<img src=x onerror=alert(1)>', body: '"quoted" & <b>bold</b>', actionUrl: 'javascript:alert(1)', createdAt: new Date() },
      ],
      recipient: { name: '<script>' },
    });
    expect(email.html).not.toContain('<img');
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(email.html).toContain('&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(email.html).not.toContain('javascript:');
    expect(absoluteLink('//evil.example/x', 'https://app.example')).toBeUndefined();
    expect(absoluteLink('/x', 'https://app.example')).toBe('https://app.example/x');
  });
});

describe('unsubscribe links', () => {
  const links = createUnsubscribeLinks('a-secret-of-at-least-thirty-two-characters');

  it('carry the user and categories, and only a token signed with the same secret passes', async () => {
    const token = await links.sign({ userId: 'u1', categories: ['social', 'billing'] });
    expect(await links.verify(token)).toEqual({ userId: 'u1', categories: ['social', 'billing'] });
    const other = createUnsubscribeLinks('another-secret-of-at-least-thirty-two-chars');
    expect(await other.verify(token)).toBeNull();
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'u2', cat: ['social'], aud: 'herald:unsubscribe', exp: 9e9 })).toString('base64url');
    expect(await links.verify(`${header}.${forged}.${signature}`)).toBeNull();
    expect(await links.verify('not-a-token')).toBeNull();
  });

  it('expire after 60 days', async () => {
    const old = await links.sign({ userId: 'u1', categories: ['social'] }, new Date(Date.now() - 61 * 86_400_000));
    expect(await links.verify(old)).toBeNull();
    const recent = await links.sign({ userId: 'u1', categories: ['social'] }, new Date(Date.now() - 59 * 86_400_000));
    expect(await links.verify(recent)).not.toBeNull();
  });
});

describe('quiet hours', () => {
  it('end at the first five minutes outside them, across midnight, in the user’s zone', () => {
    const quiet = { start: '22:00', end: '07:00', timeZone: 'Europe/Paris' };
    // 23:10 in Paris (22:10 UTC in winter): quiet until 07:00 Paris, 06:00 UTC.
    const end = endOfQuietHours(quiet, new Date('2026-12-08T22:10:00Z'));
    expect(end.toISOString()).toBe('2026-12-09T06:00:00.000Z');
  });
});
