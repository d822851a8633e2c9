import { useEffect, useMemo, useRef, useState } from 'react';
import { io } from 'socket.io-client';
import type { ErrorBody, Notification } from '@herald/shared';
import { feedApi, type FeedApi } from '../api';
import { FeedClient, type ConnectionState, type FeedSocket } from './feed-client';
import { applyCounts, applyOlderPage, applyUpdated, emptyFeed, type FeedState } from './feed-state';

export type { ConnectionState };

export interface NotificationFeed {
  feed: FeedState;
  connection: ConnectionState;
  /** The newest notification that arrived live (for toasts). */
  lastLive: Notification | null;
  hasOlder: boolean;
  markRead(ids: string[]): Promise<void>;
  markAllRead(): Promise<void>;
  markSeen(): Promise<void>;
  archive(id: string): Promise<void>;
  loadOlder(): Promise<void>;
}

/** One socket and one FeedClient per mounted feed (per tab). */
export function useNotificationFeed(token: string, onSignedOut: (reason: ErrorBody) => void): NotificationFeed {
  const [feed, setFeed] = useState<FeedState>(emptyFeed);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [lastLive, setLastLive] = useState<Notification | null>(null);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const clientRef = useRef<FeedClient | null>(null);
  const signedOutRef = useRef(onSignedOut);
  const api: FeedApi = useMemo(() => feedApi(token), [token]);

  useEffect(() => {
    signedOutRef.current = onSignedOut;
  }, [onSignedOut]);

  useEffect(() => {
    const socket: FeedSocket = io({ auth: { token }, reconnectionDelay: 500, reconnectionDelayMax: 10_000, randomizationFactor: 0.5 });
    const client = new FeedClient(socket, {
      loadFirstPage: async () => {
        const [page, counts] = await Promise.all([api.page(), api.counts()]);
        setOlderCursor(page.nextCursor);
        return { items: page.items, counts };
      },
      onChange: setFeed,
      onConnection: setConnection,
      onLive: setLastLive,
      onSignedOut: (reason) => signedOutRef.current(reason),
    });
    clientRef.current = client;
    return () => {
      clientRef.current = null;
      socket.removeAllListeners();
      socket.close();
    };
  }, [token, api]);

  return {
    feed,
    connection,
    lastLive,
    hasOlder: olderCursor !== null,
    markRead: async (ids) => {
      await clientRef.current?.markRead(ids);
    },
    markAllRead: async () => {
      const { counts } = await api.readAll();
      const client = clientRef.current;
      if (!client) return;
      const now = new Date().toISOString();
      const items = client.state.items.map((n) => (n.readAt ? n : { ...n, readAt: now, seenAt: n.seenAt ?? now }));
      client.update(applyCounts({ ...client.state, items }, counts));
    },
    markSeen: async () => {
      const { counts } = await api.seen();
      const client = clientRef.current;
      if (client) client.update(applyCounts(client.state, counts));
    },
    archive: async (id) => {
      const { notification, counts } = await api.archive(id);
      const client = clientRef.current;
      if (client) client.update(applyCounts(applyUpdated(client.state, notification), counts));
    },
    loadOlder: async () => {
      const client = clientRef.current;
      if (!client || olderCursor === null) return;
      const page = await api.page(olderCursor);
      setOlderCursor(page.nextCursor);
      client.update(applyOlderPage(client.state, page.items));
    },
  };
}
