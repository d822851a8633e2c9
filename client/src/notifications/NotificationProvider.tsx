import { createContext, useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { io } from 'socket.io-client';
import type { ErrorBody, Notification, TopicMessage } from '@herald/shared';
import { createFeedApi } from './feed-api';
import { FeedClient, type ConnectionState, type FeedSocket } from './feed-client';
import { applyCounts, applyOlderPage, applyUpdated, emptyFeed, type FeedState } from './feed-state';
import { openTabSync, type TabMessage } from './tab-sync';

export interface NotificationContextValue {
  feed: FeedState;
  connection: ConnectionState;
  /** Notifications that arrived live, newest last (for toasts and the live region). */
  live: Notification[];
  loading: boolean;
  error: string | null;
  hasOlder: boolean;
  loadingOlder: boolean;
  markRead(ids: string[]): Promise<void>;
  markAllRead(): Promise<void>;
  markSeen(): Promise<void>;
  archive(id: string): Promise<void>;
  loadOlder(): Promise<void>;
  retry(): void;
}

export const NotificationContext = createContext<NotificationContextValue | null>(null);

export interface NotificationProviderProps {
  /** The signed-in user's token (from your login). */
  token: string;
  /** The user's id, to pair this user's tabs. */
  userId: string;
  /** Called once when the server refuses the token (expired or invalid). */
  onSignedOut?: (reason: ErrorBody) => void;
  /** Where the gateway is. @default this page's origin */
  serverUrl?: string;
  /** Messages on topics the user follows (e.g. new comments on a followed post). */
  onTopicMessage?: (message: TopicMessage) => void;
  children: ReactNode;
}

/** Owns one socket per tab and the feed; everything under it reads the feed through the hooks. */
export function NotificationProvider({ token, userId, onSignedOut, onTopicMessage, serverUrl = '', children }: NotificationProviderProps) {
  const [feed, setFeed] = useState<FeedState>(emptyFeed);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [live, setLive] = useState<Notification[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const clientRef = useRef<FeedClient | null>(null);
  const tabsRef = useRef<ReturnType<typeof openTabSync> | null>(null);
  const signedOutRef = useRef(onSignedOut);
  const topicRef = useRef(onTopicMessage);
  const api = useMemo(() => createFeedApi(token, serverUrl), [token, serverUrl]);

  useEffect(() => {
    signedOutRef.current = onSignedOut;
    topicRef.current = onTopicMessage;
  }, [onSignedOut, onTopicMessage]);

  useEffect(() => {
    const socket: FeedSocket = io(serverUrl || undefined, {
      auth: { token },
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
    });
    clientRef.current = client;
    socket.on('topic:message', (message) => topicRef.current?.(message));
    const online = () => client.setNetwork(true);
    const offline = () => client.setNetwork(false);
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    const tabs = openTabSync(userId, (message: TabMessage) => {
      let next = client.state;
      if (message.kind === 'updated') for (const n of message.notifications) next = applyUpdated(next, n);
      if (message.kind === 'all-read') {
        next = { ...next, items: next.items.map((n) => (n.readAt ? n : { ...n, readAt: message.at, seenAt: n.seenAt ?? message.at })) };
      }
      client.update(applyCounts(next, message.counts));
    });
    tabsRef.current = tabs;
    return () => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      tabs.close();
      tabsRef.current = null;
      clientRef.current = null;
      socket.removeAllListeners();
      socket.close();
    };
  }, [token, userId, serverUrl, api, attempt]);

  const markRead = useCallback(async (ids: string[]) => {
    const client = clientRef.current;
    if (!client) return;
    const updated = await client.markRead(ids);
    tabsRef.current?.post({ kind: 'updated', notifications: updated.notifications, counts: updated.counts });
  }, []);

  const markAllRead = useCallback(async () => {
    const { counts } = await api.readAll();
    const client = clientRef.current;
    if (!client) return;
    const at = new Date().toISOString();
    client.update(
      applyCounts(
        { ...client.state, items: client.state.items.map((n) => (n.readAt ? n : { ...n, readAt: at, seenAt: n.seenAt ?? at })) },
        counts,
      ),
    );
    tabsRef.current?.post({ kind: 'all-read', counts, at });
  }, [api]);

  const markSeen = useCallback(async () => {
    const { counts } = await api.seen();
    clientRef.current?.update(applyCounts(clientRef.current.state, counts));
    tabsRef.current?.post({ kind: 'counts', counts });
  }, [api]);

  const archive = useCallback(
    async (id: string) => {
      const { notification, counts } = await api.archive(id);
      const client = clientRef.current;
      if (!client) return;
      client.update(applyCounts(applyUpdated(client.state, notification), counts));
      tabsRef.current?.post({ kind: 'updated', notifications: [notification], counts });
    },
    [api],
  );

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

  const value = useMemo<NotificationContextValue>(
    () => ({
      feed,
      connection,
      live,
      loading,
      error,
      hasOlder: olderCursor !== null,
      loadingOlder,
      markRead,
      markAllRead,
      markSeen,
      archive,
      loadOlder,
      retry: () => {
        setLoading(true);
        setError(null);
        setAttempt((n) => n + 1);
      },
    }),
    [feed, connection, live, loading, error, olderCursor, loadingOlder, markRead, markAllRead, markSeen, archive, loadOlder],
  );

  return <NotificationContext.Provider value={value}>{children}</NotificationContext.Provider>;
}
