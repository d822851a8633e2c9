import { HeraldHttpError, requestJson } from './http.js';
import type { FeedApiLocation } from './feed-api.js';

/**
 * Where desktop notifications stand in this browser, for this app:
 * - `unsupported`: no service workers, Push API or notifications here (or not a secure context);
 * - `unavailable`: Herald has no Web Push keys configured (its push routes answer 404);
 * - `default`: the user has not been asked yet: offer it;
 * - `denied`: the user said no (only the browser's site settings can undo it);
 * - `granted`: allowed (this browser may or may not hold a subscription: call enablePush to make sure).
 */
export type PushState = 'unsupported' | 'unavailable' | 'default' | 'denied' | 'granted';

/**
 * How enablePush reaches Herald and the service worker.
 *
 * @example
 * await enablePush({ token, serviceWorkerUrl: '/herald-sw.js?icon=/logo.png' });
 */
export interface PushOptions extends FeedApiLocation {
  /** The signed-in user's token, or a function that returns a current one. */
  token: string | (() => Promise<string>);
  /**
   * Where the app serves `@herald/client/herald-sw.js` (see docs/push-and-email.md); an `icon` query
   * parameter sets the icon every notification shows. @default "/herald-sw.js"
   */
  serviceWorkerUrl?: string;
  /** The worker's scope; it only shows notifications, so any path of the app will do. @default the worker's directory */
  scope?: string;
}

/** What enablePush ended with: `enabled` when this browser's subscription is registered with Herald. */
export type EnablePushResult = 'enabled' | 'denied' | 'dismissed' | 'unsupported' | 'unavailable';

const DEFAULT_WORKER = '/herald-sw.js';

function supported(): boolean {
  return (
    typeof window !== 'undefined' &&
    window.isSecureContext &&
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    'Notification' in window
  );
}

const apiBase = (options: FeedApiLocation) => ({
  baseUrl: options.serverUrl ?? '',
  path: `${options.apiPath ?? '/api'}/push`,
  ...(options.tenant ? { tenant: options.tenant } : {}),
});
const tokenOf = async (token: PushOptions['token']) => (typeof token === 'string' ? token : token());

/** Herald's public VAPID key, or null when push is not configured there. */
async function publicKey(options: PushOptions): Promise<string | null> {
  const { baseUrl, path, tenant } = apiBase(options);
  try {
    const answer = await requestJson<{ publicKey: string }>('GET', `${path}/vapid-public-key`, {
      baseUrl,
      token: await tokenOf(options.token),
      ...(tenant ? { tenant } : {}),
    });
    return answer.publicKey;
  } catch (error) {
    if (error instanceof HeraldHttpError && error.status === 404) return null;
    throw error;
  }
}

/** The base64url public key as the bytes `PushManager.subscribe` takes. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Whether two keys are the same bytes (a subscription made with an older VAPID key must be replaced). */
function sameKey(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.byteLength) return false;
  const view = new Uint8Array(a);
  return view.every((byte, i) => byte === b[i]);
}

/**
 * Whether to offer desktop notifications: `default` means Herald can send them and the user has not
 * been asked.
 *
 * @example
 * if ((await pushState({ token })) === 'default') showEnableButton();
 */
export async function pushState(options: PushOptions): Promise<PushState> {
  if (!supported()) return 'unsupported';
  if ((await publicKey(options)) === null) return 'unavailable';
  return Notification.permission;
}

/**
 * Asks for permission (call it from a click: browsers ignore the request otherwise), registers Herald's
 * service worker, subscribes this browser with Herald's VAPID key and registers the subscription with
 * Herald. Safe to call again: an existing subscription is registered again (Herald keeps one per
 * endpoint).
 *
 * @example
 * button.onclick = async () => { if ((await enablePush({ token })) === 'enabled') button.hidden = true; };
 */
export async function enablePush(options: PushOptions): Promise<EnablePushResult> {
  if (!supported()) return 'unsupported';
  const key = await publicKey(options);
  if (key === null) return 'unavailable';
  const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
  if (permission === 'denied') return 'denied';
  if (permission !== 'granted') return 'dismissed';
  const registration = await navigator.serviceWorker.register(options.serviceWorkerUrl ?? DEFAULT_WORKER, {
    ...(options.scope ? { scope: options.scope } : {}),
  });
  const ready = registration.active ? registration : await navigator.serviceWorker.ready;
  const applicationServerKey = keyBytes(key);
  let subscription = await ready.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, applicationServerKey)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await ready.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
  const { baseUrl, path, tenant } = apiBase(options);
  await requestJson('POST', `${path}/subscriptions`, {
    baseUrl,
    token: await tokenOf(options.token),
    ...(tenant ? { tenant } : {}),
    body: subscription.toJSON(),
  });
  return 'enabled';
}

/**
 * Stops desktop notifications in this browser: forgets the subscription at Herald, then unsubscribes.
 * The permission stays as the user set it.
 *
 * @example
 * await disablePush({ token });
 */
export async function disablePush(options: PushOptions): Promise<void> {
  if (!supported()) return;
  const registration = await navigator.serviceWorker.getRegistration(options.scope ?? options.serviceWorkerUrl ?? DEFAULT_WORKER);
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return;
  const { baseUrl, path, tenant } = apiBase(options);
  await requestJson('DELETE', `${path}/subscriptions`, {
    baseUrl,
    token: await tokenOf(options.token),
    ...(tenant ? { tenant } : {}),
    body: { endpoint: subscription.endpoint },
  });
  await subscription.unsubscribe();
}
