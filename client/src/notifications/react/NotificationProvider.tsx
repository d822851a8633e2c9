import type { ReactNode } from 'react';
import type { TopicMessage } from '@herald/shared';
import type { ErrorBody } from '@herald/shared/errors';
import { NotificationContext } from './context.js';
import { useFeedConnection } from './use-feed-connection.js';
import { PushContext, usePushControl } from './use-push.js';

/**
 * Props of NotificationProvider.
 *
 * @example
 * <NotificationProvider token={token} userId={user.id} apiPath="/herald" socketPath="/herald/socket.io">…</NotificationProvider>
 */
export interface NotificationProviderProps {
  /** The signed-in user's token (from your login); or give `getToken`. */
  token?: string;
  /**
   * Returns a current token (e.g. your identity provider's `getAccessTokenSilently`). Used on every
   * connect, for the REST calls, and shortly before the token expires, to refresh it on the live socket.
   */
  getToken?: () => Promise<string>;
  /** The user's id, to pair this user's tabs. */
  userId: string;
  /**
   * The workspace (tenant) whose feed to show; the token must grant it. Changing it switches the feed,
   * the socket and the counts without a page reload. @default the user's default feed
   */
  tenant?: string;
  /** Called once when the server refuses the token (expired or invalid). */
  onSignedOut?: (reason: ErrorBody) => void;
  /** The origin Herald answers on (with CORS_ORIGINS / corsOrigins allowing this page's). @default this page's origin */
  serverUrl?: string;
  /** Herald's API path: "/api" for a standalone gateway, attachHerald's `prefix` when embedded. @default "/api" */
  apiPath?: string;
  /** Herald's Socket.IO path: attachHerald's `socketPath` (`<prefix>/socket.io`) when embedded. @default "/socket.io" */
  socketPath?: string;
  /**
   * Where the app serves Herald's service worker (`@herald/client/herald-sw.js`), for desktop
   * notifications; an `icon` query parameter sets their icon. @default "/herald-sw.js"
   */
  serviceWorkerUrl?: string;
  /** Every message on topics the user follows; components can listen with useTopicMessages instead. */
  onTopicMessage?: (message: TopicMessage) => void;
  children: ReactNode;
}

/**
 * Owns one socket per tab and the feed; everything under it reads the feed through the hooks.
 *
 * @example
 * <NotificationProvider token={session.token} userId={session.user.id} onSignedOut={signOut}>
 *   <NotificationComponent />
 * </NotificationProvider>
 */
export function NotificationProvider({
  token,
  getToken,
  userId,
  tenant,
  onSignedOut,
  onTopicMessage,
  serverUrl = '',
  apiPath = '/api',
  socketPath = '/socket.io',
  serviceWorkerUrl,
  children,
}: NotificationProviderProps) {
  const value = useFeedConnection({ token, getToken, userId, tenant, serverUrl, apiPath, socketPath, onSignedOut, onTopicMessage });
  const push = usePushControl({
    token: getToken ?? token ?? '',
    serverUrl,
    apiPath,
    ...(tenant ? { tenant } : {}),
    ...(serviceWorkerUrl ? { serviceWorkerUrl } : {}),
  });
  return (
    <NotificationContext.Provider value={value}>
      <PushContext.Provider value={push}>{children}</PushContext.Provider>
    </NotificationContext.Provider>
  );
}
