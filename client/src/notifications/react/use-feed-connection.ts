import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { io } from 'socket.io-client';
import type { Notification, TopicMessage } from '@herald/shared';
import type { ErrorBody } from '@herald/shared/errors';
import { createFeedApi } from '../core/feed-api.js';
import { FeedClient, type ConnectionState, type FeedSocket } from '../core/feed-client.js';
import { applyAllRead, applyOlderPage, applyUpdated, emptyFeed, nextExpiry, withoutExpired, type FeedState } from '../core/feed-state.js';
import { openTabSync, type TabMessage, type TabSync } from '../core/tab-sync.js';
import { keepTokenFresh } from '../core/token-refresh.js';
import type { NotificationContextValue } from './context.js';
import { useFeedActions } from './use-feed-actions.js';
import { usePreferences } from './use-preferences.js';

export interface FeedConnectionOptions {
  /** A fixed token, or */
  token: string | undefined;
  /** a function that returns a current one (short-lived tokens are refreshed on the live socket). */
  getToken: (() => Promise<string>) | undefined;
  userId: string;
  /** The workspace whose feed this is; undefined: the user's default feed. */
  tenant: string | undefined;
  serverUrl: string;
  apiPath: string;
  socketPath: string;
  onSignedOut: ((reason: ErrorBody) => void) | undefined;
  onTopicMessage: ((message: TopicMessage) => void) | undefined;
}

/**
 * Owns the lifecycle of one tab's connection: the socket, the FeedClient on it
 * (catch-up, dedupe, gaps), the tab sync with the user's other tabs, and the
 * browser's online/offline events. A new token, user or server starts over.
 */
export function useFeedConnection({
  token,
  getToken,
  userId,
  tenant,
  serverUrl,
  apiPath,
  socketPath,
  onSignedOut,
  onTopicMessage,
}: FeedConnectionOptions): NotificationContextValue {
  const [feed, setFeed] = useState<FeedState>(emptyFeed);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [live, setLive] = useState<Notification[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const clientRef = useRef<FeedClient | null>(null);
  const tabsRef = useRef<TabSync | null>(null);
  const signedOutRef = useRef(onSignedOut);
  const topicListeners = useRef(new Set<(message: TopicMessage) => void>());
  const getTokenRef = useRef(getToken);
  const refreshing = getToken !== undefined;
  const currentToken = useCallback(() => getTokenRef.current!(), []);
  const api = useMemo(
    // currentToken reads the ref only when a request is made, never during render.
    // eslint-disable-next-line react-hooks/refs
    () => createFeedApi(refreshing ? currentToken : (token ?? ''), { serverUrl, apiPath, ...(tenant ? { tenant } : {}) }),
    [token, refreshing, currentToken, serverUrl, apiPath, tenant],
  );

  useEffect(() => {
    signedOutRef.current = onSignedOut;
    getTokenRef.current = getToken;
  }, [onSignedOut, getToken]);

  useEffect(() => {
    if (!onTopicMessage) return;
    const listeners = topicListeners.current;
    listeners.add(onTopicMessage);
    return () => void listeners.delete(onTopicMessage);
  }, [onTopicMessage]);

  useEffect(() => {
    const fresh = currentToken;
    const socket: FeedSocket = io(serverUrl || undefined, {
      path: socketPath,
      // With getToken, every connect and reconnect presents a current token.
      // One socket is one feed: the tenant's, named at the handshake.
      auth: refreshing
        ? (cb) =>
            void fresh().then(
              (t) => cb({ token: t, ...(tenant ? { tenant } : {}) }),
              () => cb({}),
            )
        : { token, ...(tenant ? { tenant } : {}) },
      // Reconnect with exponential backoff and jitter, so a restart does not bring every client back at once.
      reconnectionDelay: 500,
      reconnectionDelayMax: 10_000,
      randomizationFactor: 0.5,
    });
    const client = new FeedClient(socket, {
      loadFirstPage: async () => {
        try {
          const [page, counts] = await Promise.all([api.page(), api.counts()]);
          setOlderCursor(page.nextCursor);
          setError(null);
          return { items: page.items, counts };
        } catch (e) {
          setError(e instanceof Error ? e.message : 'Could not load notifications.');
          throw e;
        } finally {
          setLoading(false);
        }
      },
      onChange: setFeed,
      onConnection: setConnection,
      onLive: (n) => setLive((list) => [...list.slice(-19), n]),
      onSignedOut: (reason) => signedOutRef.current?.(reason),
      retryRefusedToken: refreshing,
    });
    const stopRefreshing = refreshing ? keepTokenFresh(socket, fresh) : () => undefined;
    clientRef.current = client;
    const listeners = topicListeners.current;
    socket.on('topic:message', (message) => listeners.forEach((listener) => listener(message)));
    const online = () => client.setNetwork(true);
    const offline = () => client.setNetwork(false);
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    // Tabs pair per feed: a tab on another workspace's feed is not told of this one's changes.
    tabsRef.current = openTabSync(tenant ? `${tenant}/${userId}` : userId, (message: TabMessage) => {
      let next = client.state;
      if (message.kind === 'updated') for (const n of message.notifications) next = applyUpdated(next, n);
      if (message.kind === 'all-read') next = applyAllRead(next, message.at);
      client.update(next);
      client.applyPushedCounts(message.counts);
    });
    return () => {
      stopRefreshing();
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      tabsRef.current?.close();
      tabsRef.current = null;
      clientRef.current = null;
      socket.removeAllListeners();
      client.close();
    };
  }, [token, refreshing, currentToken, userId, tenant, serverUrl, socketPath, api, attempt]);

  const loadOlder = useCallback(async () => {
    const client = clientRef.current;
    if (!client || olderCursor === null || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const page = await api.page(olderCursor);
      setOlderCursor(page.nextCursor);
      client.update(applyOlderPage(client.state, page.items));
    } finally {
      setLoadingOlder(false);
    }
  }, [api, olderCursor, loadingOlder]);

  const retry = useCallback(() => {
    setLoading(true);
    setError(null);
    setAttempt((n) => n + 1);
  }, []);

  const listenToTopics = useCallback((listener: (message: TopicMessage) => void) => {
    topicListeners.current.add(listener);
    return () => void topicListeners.current.delete(listener);
  }, []);

  // Expired notifications leave at their time; a timer renders again when the next one expires.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const next = nextExpiry(feed.items, now);
    if (next === undefined) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.min(next - Date.now() + 50, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [feed.items, now]);
  const shownFeed = useMemo(() => withoutExpired(feed, now), [feed, now]);

  const feedActions = useFeedActions(api, clientRef, tabsRef);
  const { preferences, savePreferences } = usePreferences(api);
  const actions = useMemo(
    () => ({
      ...feedActions,
      loadOlder,
      retry,
      savePreferences,
      onTopicMessage: listenToTopics,
    }),
    [feedActions, loadOlder, retry, savePreferences, listenToTopics],
  );
  const hasOlder = olderCursor !== null;
  return useMemo(
    () => ({ feed: shownFeed, connection, live, loading, error, hasOlder, loadingOlder, preferences, ...actions }),
    [shownFeed, connection, live, loading, error, hasOlder, loadingOlder, preferences, actions],
  );
}
