// @ts-check
/// <reference lib="webworker" />
/**
 * Herald's service worker: shows each Web Push message Herald sends (title, body, icon) and opens or
 * focuses its link on click. A classic script with no imports, so any app can serve it as a file
 * (see docs/push-and-email.md); `enablePush()` registers it.
 *
 * A message's JSON (written by the server's push stage):
 *   { id, title, body?, url?, icon?, category?, tag, createdAt }
 */
(() => {
  const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
  /** The page's query string, e.g. `herald-sw.js?icon=/logo.png`, sets the default icon. */
  const defaultIcon = new URL(sw.location.href).searchParams.get('icon') || undefined;

  /**
   * The message as the worker shows it; a message that is not Herald's JSON still shows its text.
   * @param {PushMessageData | null} data
   */
  function readMessage(data) {
    if (!data) return { title: 'New notification', options: {} };
    let message;
    try {
      message = data.json();
    } catch {
      return { title: data.text() || 'New notification', options: {} };
    }
    const icon = typeof message.icon === 'string' ? message.icon : defaultIcon;
    /** @type {NotificationOptions} */
    const options = {
      ...(typeof message.body === 'string' ? { body: message.body } : {}),
      ...(icon ? { icon } : {}),
      ...(typeof message.tag === 'string' ? { tag: message.tag } : {}),
      ...(message.createdAt ? { timestamp: Date.parse(message.createdAt) } : {}),
      data: { id: message.id, url: typeof message.url === 'string' ? message.url : '/' },
    };
    return { title: typeof message.title === 'string' && message.title ? message.title : 'New notification', options };
  }

  sw.addEventListener('push', (event) => {
    const { title, options } = readMessage(event.data);
    event.waitUntil(sw.registration.showNotification(title, options));
  });

  sw.addEventListener('notificationclick', (event) => {
    event.notification.close();
    let target = new URL(event.notification.data?.url ?? '/', sw.location.origin);
    // Only web pages open: anything else (a javascript: link, say) opens the app instead.
    if (target.protocol !== 'https:' && target.protocol !== 'http:') target = new URL('/', sw.location.origin);
    event.waitUntil(
      (async () => {
        const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
        // A tab already on that page is focused; otherwise a tab of this app is sent there; otherwise a new one.
        const same = windows.find((client) => client.url === target.href);
        if (same) return same.focus();
        const ours =
          target.origin === sw.location.origin ? windows.find((client) => new URL(client.url).origin === target.origin) : undefined;
        if (ours) {
          const moved = await ours.navigate(target.href).catch(() => null);
          if (moved) return moved.focus();
        }
        return sw.clients.openWindow(target.href);
      })(),
    );
  });

  // A new version takes over at once: it only shows notifications, so there is nothing to hand over.
  sw.addEventListener('install', () => void sw.skipWaiting());
  sw.addEventListener('activate', (event) => event.waitUntil(sw.clients.claim()));
})();
