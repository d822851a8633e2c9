import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { disablePush, enablePush, pushState, type EnablePushResult, type PushOptions, type PushState } from '../core/push.js';

/** Desktop notifications as the components see them. */
export interface DesktopNotifications {
  /** Null until known (Herald is asked whether push is configured). */
  state: PushState | null;
  /** Asks for permission and subscribes (call it from a click). */
  enable(): Promise<EnablePushResult>;
  /** Unsubscribes this browser. */
  disable(): Promise<void>;
}

export const PushContext = createContext<DesktopNotifications | null>(null);

/** The provider's half: the push state for this user and server, and the calls that change it. */
export function usePushControl(options: PushOptions): DesktopNotifications {
  const { token, serverUrl, apiPath, serviceWorkerUrl, scope, tenant } = options;
  const [state, setState] = useState<PushState | null>(null);
  // A token function is read when a call is made, so a new function each render asks nothing again.
  const tokenRef = useRef(token);
  useEffect(() => {
    tokenRef.current = token;
  });
  const fixedToken = typeof token === 'string' ? token : null;
  const resolved = useMemo<PushOptions>(
    () => ({
      token: fixedToken ?? (() => (tokenRef.current as () => Promise<string>)()),
      ...(serverUrl !== undefined ? { serverUrl } : {}),
      ...(apiPath !== undefined ? { apiPath } : {}),
      ...(serviceWorkerUrl !== undefined ? { serviceWorkerUrl } : {}),
      ...(scope !== undefined ? { scope } : {}),
      ...(tenant !== undefined ? { tenant } : {}),
    }),
    [fixedToken, serverUrl, apiPath, serviceWorkerUrl, scope, tenant],
  );
  useEffect(() => {
    let current = true;
    pushState(resolved).then(
      (known) => current && setState(known),
      () => current && setState('unavailable'), // Herald not reachable now: offer nothing
    );
    return () => {
      current = false;
    };
  }, [resolved]);
  const enable = useCallback(async () => {
    const result = await enablePush(resolved);
    setState(await pushState(resolved).catch((): PushState => 'unavailable'));
    return result;
  }, [resolved]);
  const disable = useCallback(() => disablePush(resolved), [resolved]);
  return useMemo(() => ({ state, enable, disable }), [state, enable, disable]);
}

/**
 * Desktop notifications (Web Push): whether they can be offered, and the calls to switch them on and off.
 * `state` is `default` when Herald has push configured and the user has not been asked yet.
 *
 * @example
 * const { state, enable } = useDesktopNotifications();
 * if (state === 'default') return <button onClick={() => void enable()}>Enable desktop notifications</button>;
 */
export function useDesktopNotifications(): DesktopNotifications {
  const value = useContext(PushContext);
  if (!value) throw new Error('Herald hooks must be used inside <NotificationProvider>.');
  return value;
}
