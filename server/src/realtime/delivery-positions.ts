import type { IoSocket } from './io-types';

export interface Position {
  /** The newest seq up to which this socket has everything: its last sync's settledSeq, then each next live push. */
  seq: number;
  /** The counter value this socket was first seen behind, and when. */
  behind?: { counter: number; since: number };
  hintedAt?: number;
}

/**
 * What each socket has been sent, as far as this instance knows: set by a sync's answer, moved by each
 * live push that follows on. Kept beside the socket (a WeakMap), gone with it.
 */
export interface DeliveryPositions {
  /** A sync answered: everything up to `settledSeq` is the socket's (unless `hasMore`: it asks again at once). */
  synced(socket: IoSocket, settledSeq: number, hasMore: boolean): void;
  /** Since when the socket has been seen behind its user's counter, if it is. */
  behindSince(socket: IoSocket): number | undefined;
  /** A notification with `seq` was pushed live to the socket. */
  pushed(socket: IoSocket, seq: number): void;
}

export function createDeliveryPositions(): DeliveryPositions & { entry(socket: IoSocket): Position | undefined } {
  const positions = new WeakMap<IoSocket, Position>();
  return {
    synced(socket, settledSeq, hasMore) {
      if (hasMore) return; // the client asks for the next page at once
      const position = positions.get(socket);
      if (position) position.seq = settledSeq;
      else positions.set(socket, { seq: settledSeq });
    },
    behindSince: (socket) => positions.get(socket)?.behind?.since,
    pushed(socket, seq) {
      const position = positions.get(socket);
      if (position && seq === position.seq + 1) position.seq = seq;
    },
    entry: (socket) => positions.get(socket),
  };
}
