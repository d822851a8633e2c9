import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { relativeTime } from '../src/notifications/components/format';
import { englishLabels, NotificationComponent, NotificationProvider, type LabelOverrides } from '../src/notifications';

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
});
