import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { relativeTime } from '../src/notifications/components/format';
import type { Notification } from '@herald/shared';
import { FeedPanel } from '../src/notifications/components/FeedPanel';
import { SlotsContext } from '../src/notifications/components/slots';
import {
  englishLabels,
  frenchLabels,
  NotificationComponent,
  NotificationProvider,
  type LabelOverrides,
  type RenderSlots,
} from '../src/notifications';

const spanish: LabelOverrides = {
  title: 'Avisos',
  connection: {
    connecting: 'Conectando…',
    connected: 'En vivo',
    reconnecting: 'Reconectando…',
    offline: 'Sin conexión',
    'signed-out': 'Sesión cerrada',
  },
};

describe('NotificationComponent’s words', () => {
  const render = (props: object) =>
    renderToString(
      createElement(NotificationProvider, { token: 't', userId: 'u_1', children: createElement(NotificationComponent, props) }),
    );

  it('are English by default', () => {
    const html = render({});
    expect(html).toContain(`aria-label="${englishLabels.title}"`);
    expect(html).toContain(englishLabels.connection.connecting);
  });

  it('take the host’s labels, keeping English for the rest, and its class on the root', () => {
    const html = render({ labels: spanish, className: 'app-bell' });
    expect(html).toContain('aria-label="Avisos"');
    expect(html).toContain('Conectando…');
    expect(html).not.toContain(englishLabels.connection.connecting);
    expect(html).toContain('class="hr-root app-bell"');
  });

  it('format times in the locale given', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(relativeTime('2026-01-01T11:55:00Z', { locale: 'en' }, now)).toBe('5 minutes ago');
    expect(relativeTime('2026-01-01T11:55:00Z', { locale: 'fr' }, now)).toBe('il y a 5 minutes');
    expect(relativeTime('2026-01-01T11:59:50Z', { locale: 'fr', justNow: 'à l’instant' }, now)).toBe('à l’instant');
  });

  it('ship in French too, every one of them translated', () => {
    const html = render({ labels: frenchLabels, locale: 'fr' });
    expect(html).toContain('Connexion…');
    expect(html).not.toContain(englishLabels.connection.connecting);
    // Every label differs from the English one, except those that read the same in both languages.
    const same = new Set(['title', 'interacted', 'groupCount']);
    const words = (labels: Record<string, unknown>) =>
      Object.entries(labels).map(([key, value]) => [
        key,
        typeof value === 'function' ? (value as (x: never) => string)(2 as never) : JSON.stringify(value),
      ]);
    const english = Object.fromEntries(words(englishLabels as unknown as Record<string, unknown>));
    for (const [key, french] of words(frenchLabels as unknown as Record<string, unknown>)) {
      if (!same.has(key!)) expect([key, french]).not.toEqual([key, english[key!]]);
    }
  });
});

describe('render slots', () => {
  const notification: Notification = {
    id: 'a'.repeat(24),
    userId: 'u_1',
    seq: 1,
    type: 'order.shipped',
    title: 'Your order shipped',
    createdAt: new Date(0).toISOString(),
  };
  const panel = (slots: RenderSlots, items: Notification[], extra: { signedOut?: boolean; loading?: boolean } = {}) =>
    renderToString(
      createElement(
        SlotsContext.Provider,
        { value: slots },
        createElement(FeedPanel, {
          id: 'p',
          items,
          unread: items.length,
          loading: extra.loading ?? false,
          ...(extra.signedOut ? { signedOut: true } : {}),
          error: null,
          hasOlder: false,
          loadingOlder: false,
          onOpen: () => undefined,
          onArchive: () => undefined,
          onAction: () => undefined,
          onMarkAllRead: () => undefined,
          onLoadOlder: () => undefined,
          onRetry: () => undefined,
          onClose: () => undefined,
        }),
      ),
    );

  it('draw the item inside its button, keeping the button, its unread text and the archive control', () => {
    const html = panel({ renderItem: (n) => createElement('em', { className: 'order-line' }, `#${n.seq}: ${n.title}`) }, [notification]);
    expect(html).toMatch(/<button[^>]*data-testid="notification-open"[^>]*><em class="order-line">#1: Your order shipped<\/em>/);
    expect(html).toContain(englishLabels.unreadItem);
    expect(html).toContain(`aria-label="${englishLabels.archiveItem(notification.title)}"`);
    expect(html).not.toContain('hr-item-title');
  });

  it('a refused token: the panel says to sign in again, not "Loading…", and offers no "Mark all read"', () => {
    const html = panel({}, [], { signedOut: true, loading: true });
    expect(html).toContain('data-testid="signed-out"');
    expect(html).toContain(englishLabels.signedOutPanel);
    expect(html).not.toContain(englishLabels.loading);
    expect(html).not.toContain('data-testid="mark-all-read"');
    expect(panel({}, [], { loading: true })).toContain('data-testid="mark-all-read"');
  });

  it('an item without an actor has no placeholder avatar; one with an actor shows initials', () => {
    expect(panel({}, [notification])).not.toContain('hr-avatar');
    const fromAda = panel({}, [{ ...notification, actor: { id: 'u_2', name: 'Ada Lovelace' } }]);
    expect(fromAda).toMatch(/class="hr-avatar"[^>]*>AL</);
  });

  it('draw the empty state and the bell icon', () => {
    expect(panel({ renderEmpty: () => createElement('span', null, 'Inbox zero') }, [])).toContain('<span>Inbox zero</span>');
    const html = renderToString(
      createElement(NotificationProvider, {
        token: 't',
        userId: 'u_1',
        children: createElement(NotificationComponent, { bellIcon: createElement('i', { className: 'my-bell' }) }),
      }),
    );
    expect(html).toMatch(/data-testid="bell"><i class="my-bell"><\/i>/);
    expect(html).not.toContain('<svg');
  });
});
