import mongoose from 'mongoose';
import { io } from 'socket.io-client';
import { FeedClient, type FeedSocket } from '../../../client/src/notifications/core/feed-client';
import type { TokenSigner } from '../../src/auth/token-signer';

export interface FeedClientsOptions {
  count: number;
  /** Where client i connects (a balancer, or one of several instances). */
  url: (i: number) => string;
  /** Signs each fresh user's token. */
  tokens: TokenSigner;
  /** These users instead of fresh ones (the same ids in another tenant, say). */
  users?: string[];
  /** Each client on its user's feed in this tenant (the token grants it). */
  tenant?: string;
  /** @default socket.io-client's */
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
}

/**
 * Real FeedClients (the browser's catch-up logic) for fault and load tests:
 * one fresh user each, websocket only. Every socket is closed after the file.
 */
export function useFeedClients() {
  const sockets: FeedSocket[] = [];
  afterAll(() => {
    for (const socket of sockets) socket.close();
  });
  return {
    open(options: FeedClientsOptions): { users: string[]; clients: FeedClient[]; sockets: FeedSocket[] } {
      const users = options.users ?? Array.from({ length: options.count }, () => new mongoose.Types.ObjectId().toHexString());
      const { tenant } = options;
      const mine = users.map((userId, i) =>
        io(options.url(i), {
          auth: {
            token: options.tokens.sign({ userId, name: 'load', ...(tenant ? { tenants: [tenant] } : {}) }).token,
            ...(tenant ? { tenant } : {}),
          },
          transports: ['websocket'],
          forceNew: true,
          ...(options.reconnectionDelay === undefined ? {} : { reconnectionDelay: options.reconnectionDelay }),
          ...(options.reconnectionDelayMax === undefined ? {} : { reconnectionDelayMax: options.reconnectionDelayMax }),
        }),
      );
      sockets.push(...mine);
      return { users, clients: mine.map((socket) => new FeedClient(socket)), sockets: mine };
    },
  };
}
