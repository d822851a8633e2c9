import type { ReactNode } from 'react';
import type { TopicMessage } from '@herald/shared';
import type { ErrorBody } from '@herald/shared/errors';
import { NotificationContext } from './context';
import { useFeedConnection } from './use-feed-connection';

/**
 * Props of NotificationProvider.
 *
 * @example
 * <NotificationProvider token={token} userId={user.id} serverUrl="https://notify.example.com">…</NotificationProvider>
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
  /** Called once when the server refuses the token (expired or invalid). */
  onSignedOut?: (reason: ErrorBody) => void;
  /** Where the gateway is. @default this page's origin */
  serverUrl?: string;
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
  onSignedOut,
  onTopicMessage,
  serverUrl = '',
  children,
}: NotificationProviderProps) {
  const value = useFeedConnection({ token, getToken, userId, serverUrl, onSignedOut, onTopicMessage });
  return <NotificationContext.Provider value={value}>{children}</NotificationContext.Provider>;
}
