import { useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ErrorBody, Notification, ServerToClientEvents } from '@herald/shared';
import { applyLive, applySync, emptyFeed, type FeedState } from './feed-state';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'signed-out';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Pages of catch-up fetched in one go before yielding; each page holds up to 500. */
const MAX_SYNC_PAGES = 20;

export interface NotificationFeed {
  feed: FeedState;
  connection: ConnectionState;
  /** The newest notification that arrived live (for toasts). */
  lastLive: Notification | null;
}

/**
 * One socket per mounted feed: connects with the token, catches up with
 * `notifications:sync` on every (re)connect and whenever a seq gap shows a
 * live message was lost, and de-duplicates by id.
 */
export function useNotificationFeed(token: string, onSignedOut: (reason: ErrorBody) => void): NotificationFeed {
  const [feed, setFeed] = useState<FeedState>(emptyFeed);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [lastLive, setLastLive] = useState<Notification | null>(null);
  const feedRef = useRef(feed);
  const signedOutRef = useRef(onSignedOut);

  useEffect(() => {
    signedOutRef.current = onSignedOut;
  }, [onSignedOut]);

  useEffect(() => {
    const update = (next: FeedState) => {
      feedRef.current = next;
      setFeed(next);
    };
    update(emptyFeed);
    const socket: ClientSocket = io({ auth: { token }, reconnectionDelay: 500, reconnectionDelayMax: 10_000, randomizationFactor: 0.5 });
    let syncing: Promise<void> | null = null;

    const sync = (): Promise<void> => {
      syncing ??= (async () => {
        try {
          for (let page = 0; page < MAX_SYNC_PAGES; page++) {
            const response = await socket.timeout(10_000).emitWithAck('notifications:sync', { afterSeq: feedRef.current.lastSeq });
            if (!response.data) return;
            update(applySync(feedRef.current, response.data.notifications, response.data.counts));
            if (!response.data.hasMore) return;
          }
        } catch {
          // Timed out or disconnected: the next connect syncs again.
        } finally {
          syncing = null;
        }
      })();
      return syncing;
    };

    socket.on('connect', () => {
      setConnection('connected');
      void sync();
    });
    socket.on('disconnect', (reason) => {
      setConnection('reconnecting');
      // The server closed us (e.g. the token expired): reconnecting once tells us why, via connect_error.
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.io.on('reconnect_attempt', () => setConnection('reconnecting'));
    socket.on('connect_error', (error: Error & { data?: ErrorBody }) => {
      const code = error.data?.code;
      if (code === 'token_expired' || code === 'invalid_token' || code === 'unauthorized') {
        setConnection('signed-out');
        socket.close();
        signedOutRef.current(error.data!);
      } else {
        setConnection('reconnecting');
      }
    });
    socket.on('notification', (notification) => {
      const { state, isNew, gap } = applyLive(feedRef.current, notification);
      if (!isNew) return;
      update(state);
      setLastLive(notification);
      if (gap) void sync();
    });
    socket.on('counts', (counts) => update({ ...feedRef.current, ...counts }));

    return () => {
      socket.removeAllListeners();
      socket.close();
    };
  }, [token]);

  return { feed, connection, lastLive };
}
