import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const WORKER = fs.readFileSync(path.resolve(__dirname, '../public/herald-sw.js'), 'utf8');

type Listener = (event: Record<string, unknown>) => void;
interface FakeWindow {
  url: string;
  focused: boolean;
  focus(): Promise<FakeWindow>;
  navigate(url: string): Promise<FakeWindow>;
}

/**
 * Herald's service worker run in a scope of its own: what the browser gives a worker (registration,
 * clients, location), recorded, so each event's effect can be read back. The chromium test covers the
 * real browser; this covers the click, which a headless browser cannot make on a system notification.
 */
function runWorker(scriptUrl: string, windows: FakeWindow[] = []) {
  const listeners = new Map<string, Listener>();
  const shown: { title: string; options: Record<string, unknown> }[] = [];
  const opened: string[] = [];
  const self = {
    location: new URL(scriptUrl),
    addEventListener: (type: string, listener: Listener) => listeners.set(type, listener),
    registration: {
      showNotification: async (title: string, options: Record<string, unknown>) => void shown.push({ title, options }),
    },
    clients: {
      matchAll: async () => windows,
      openWindow: async (url: string) => void opened.push(url),
      claim: async () => undefined,
    },
    skipWaiting: async () => undefined,
  };
  vm.runInNewContext(WORKER, { self, URL, Date, JSON });
  /** Dispatches an event and waits for what it handed to waitUntil. */
  const dispatch = async (type: string, event: Record<string, unknown>) => {
    let pending: Promise<unknown> = Promise.resolve();
    listeners.get(type)!({ ...event, waitUntil: (promise: Promise<unknown>) => (pending = promise) });
    await pending;
  };
  const push = (data: string | null) =>
    dispatch('push', {
      data:
        data === null
          ? null
          : {
              json: () => JSON.parse(data) as unknown,
              text: () => data,
            },
    });
  const click = (data: unknown) => {
    const notification = { data, closed: false, close: () => (notification.closed = true) };
    return dispatch('notificationclick', { notification }).then(() => notification);
  };
  return { shown, opened, push, click };
}

function fakeWindow(url: string): FakeWindow {
  const win: FakeWindow = {
    url,
    focused: false,
    focus: async () => {
      win.focused = true;
      return win;
    },
    navigate: async (to: string) => {
      win.url = to;
      return win;
    },
  };
  return win;
}

describe("Herald's service worker", () => {
  it('shows a message with its title, body, tag and link, and the icon the worker was served with', async () => {
    const worker = runWorker('https://app.example/herald-sw.js?icon=/logo.png');
    await worker.push(
      JSON.stringify({
        id: 'n1',
        title: 'Ada replied',
        body: 'Looks good',
        url: '/posts/9',
        tag: 'group:c',
        createdAt: '2026-12-08T00:00:00.000Z',
      }),
    );
    expect(worker.shown).toEqual([
      {
        title: 'Ada replied',
        options: {
          body: 'Looks good',
          icon: '/logo.png',
          tag: 'group:c',
          timestamp: Date.parse('2026-12-08T00:00:00.000Z'),
          data: { id: 'n1', url: '/posts/9' },
        },
      },
    ]);
  });

  it('still shows something for a message that is not JSON, or has no data', async () => {
    const worker = runWorker('https://app.example/herald-sw.js');
    await worker.push('plain words');
    await worker.push(null);
    expect(worker.shown.map((n) => n.title)).toEqual(['plain words', 'New notification']);
  });

  it('on click focuses a tab already on the link, else moves a tab of the app there, else opens one', async () => {
    const onLink = fakeWindow('https://app.example/posts/9');
    const elsewhere = fakeWindow('https://app.example/');
    const first = runWorker('https://app.example/herald-sw.js', [elsewhere, onLink]);
    const closed = await first.click({ id: 'n1', url: '/posts/9' });
    expect(closed.closed).toBe(true);
    expect(onLink.focused).toBe(true);
    expect(elsewhere.focused).toBe(false);

    const other = fakeWindow('https://app.example/settings');
    await runWorker('https://app.example/herald-sw.js', [other]).click({ id: 'n2', url: '/posts/10' });
    expect(other).toMatchObject({ url: 'https://app.example/posts/10', focused: true });

    const none = runWorker('https://app.example/herald-sw.js', []);
    await none.click({ id: 'n3', url: 'https://shop.example/orders/1' });
    expect(none.opened).toEqual(['https://shop.example/orders/1']);
  });

  it('opens the app, not the link, when the link is not a web page', async () => {
    const worker = runWorker('https://app.example/herald-sw.js', []);
    await worker.click({ id: 'n1', url: 'javascript:alert(1)' });
    expect(worker.opened).toEqual(['https://app.example/']);
  });
});
